//! Why a SoundFont was refused by [`soundfont_check`](super::soundfont_check): one variant per
//! kind of problem, each message one line naming it.

/// Why a SoundFont was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SoundFontError {
    /// The file could not be read.
    #[error("cannot read it: {0}")]
    Io(String),
    /// Not a RIFF file of form `sfbk`.
    #[error("it is not a SoundFont (no RIFF 'sfbk' header)")]
    NotSoundFont,
    /// A chunk's declared size runs past its container.
    #[error("its '{chunk}' chunk runs past the end of {container}")]
    Truncated {
        /// The chunk's identifier.
        chunk: String,
        /// What holds it: "the file" or a list.
        container: String,
    },
    /// A chunk the format requires is absent.
    #[error("it has no '{0}' chunk")]
    Missing(&'static str),
    /// The version in `ifil` is not 2 (SF2) or 3 (SF3).
    #[error("its format version {major}.{minor} is neither 2 (SF2) nor 3 (SF3)")]
    Version {
        /// Major version.
        major: u16,
        /// Minor version.
        minor: u16,
    },
    /// A table's size is not a whole number of records.
    #[error("its '{table}' table is {bytes} bytes, not a multiple of its {record}-byte records")]
    RecordSize {
        /// The table.
        table: &'static str,
        /// Its size.
        bytes: u32,
        /// The size of one record.
        record: u32,
    },
    /// The file holds no presets, instruments or samples (only the terminal record).
    #[error("it has no {0}")]
    Empty(&'static str),
    /// A table lacks its terminal record.
    #[error("its '{table}' table has {records} records; it needs at least {needed}")]
    TooFew {
        /// The table.
        table: &'static str,
        /// Records present, terminal included.
        records: usize,
        /// Records needed, terminal included.
        needed: usize,
    },
    /// An index from one table into another is out of order or out of range.
    #[error(
        "record {record} of '{table}' points to {target} {index}: out of order, past the last ({last}), or a terminal record not at the last"
    )]
    Index {
        /// The table holding the index.
        table: &'static str,
        /// Which record.
        record: usize,
        /// The table pointed into.
        target: &'static str,
        /// The index found.
        index: u32,
        /// The largest index allowed.
        last: u32,
    },
    /// A name is not text. fluidlite quotes names in its messages, and its Rust binding panics
    /// on a message that is not UTF-8.
    #[error("record {record} of '{table}' has a name that is not text")]
    Name {
        /// The table.
        table: &'static str,
        /// Which record.
        record: usize,
    },
    /// A zone after the first lacks the generator that ends a zone (an instrument's sample, a
    /// preset's instrument): fluidlite moves such a "global" zone to the front with a list
    /// operation that reads freed memory.
    #[error(
        "{owner} {record} ({name}) has a zone {zone} without {missing}, which only its first zone may lack"
    )]
    Zone {
        /// "preset" or "instrument".
        owner: &'static str,
        /// Which preset or instrument.
        record: usize,
        /// Its name.
        name: String,
        /// Which of its zones, from 0.
        zone: usize,
        /// "an instrument" or "a sample".
        missing: &'static str,
    },
    /// A sample's points lie outside the sample data or out of order.
    #[error("sample {sample} ({name}) has {problem}")]
    Sample {
        /// Which sample header.
        sample: usize,
        /// Its name.
        name: String,
        /// What is wrong.
        problem: String,
    },
}
