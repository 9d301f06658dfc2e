//! A strict check of a SoundFont's structure, made before fluidlite (C code that trusts its
//! input) parses it: the RIFF layout, every table's record size and terminal record, every index
//! from one table into the next, and every sample's start, end and loop points against the sample
//! data (SF2.04, sections 4–7). A file that passes cannot send fluidlite outside its tables or
//! its sample data; anything else is refused with one line naming the problem.
//!
//! Only the chunk headers and the preset tables are read (a few hundred kilobytes even for a
//! 148 MB General MIDI font): the sample data is skipped, its size is all the check needs.

use std::io::{Read, Seek, SeekFrom};

pub use super::soundfont_error::SoundFontError;

/// What a SoundFont that passed the check holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SoundFontSummary {
    /// Presets, terminal record excluded.
    pub presets: usize,
    /// Instruments, terminal record excluded.
    pub instruments: usize,
    /// Sample headers, terminal record excluded.
    pub samples: usize,
}

/// The preset tables in the order the format requires, with their record sizes in bytes.
const TABLES: [(&str, u32); 9] = [
    ("phdr", 38),
    ("pbag", 4),
    ("pmod", 10),
    ("pgen", 4),
    ("inst", 22),
    ("ibag", 4),
    ("imod", 10),
    ("igen", 4),
    ("shdr", 46),
];
/// Generator 41 (`instrument`) indexes `inst`; generator 53 (`sampleID`) indexes `shdr`.
const GENERATOR_INSTRUMENT: u16 = 41;
const GENERATOR_SAMPLE_ID: u16 = 53;
/// `sampleType` bits: ROM samples (no data in the file) and SF3's Ogg-compressed samples.
const SAMPLE_ROM: u16 = 0x8000;
const SAMPLE_COMPRESSED: u16 = 0x10;
/// The preset tables of the largest General MIDI fonts are a few megabytes; more is not a font.
const MAX_PRESET_DATA_BYTES: u32 = 64 << 20;

/// Checks the SoundFont in `reader` (see the module documentation).
pub fn check<R: Read + Seek>(reader: &mut R) -> Result<SoundFontSummary, SoundFontError> {
    let file_len = reader.seek(SeekFrom::End(0)).map_err(io)?;
    reader.seek(SeekFrom::Start(0)).map_err(io)?;
    let mut header = [0u8; 12];
    reader
        .read_exact(&mut header)
        .map_err(|_| SoundFontError::NotSoundFont)?;
    if &header[0..4] != b"RIFF" || &header[8..12] != b"sfbk" {
        return Err(SoundFontError::NotSoundFont);
    }
    let riff_end = 8 + u64::from(le32(&header[4..8]));
    if riff_end > file_len {
        return Err(truncated("RIFF", "the file"));
    }
    let lists = top_level_lists(reader, riff_end)?;
    let info = lists.info.ok_or(SoundFontError::Missing("LIST INFO"))?;
    let version = version(reader, info)?;
    let sdta = lists.sdta.ok_or(SoundFontError::Missing("LIST sdta"))?;
    let sample_data_bytes = sample_data_bytes(reader, sdta)?;
    let pdta = lists.pdta.ok_or(SoundFontError::Missing("LIST pdta"))?;
    let tables = read_tables(reader, pdta)?;
    tables.check(SampleData {
        bytes: sample_data_bytes,
        compressed: version == 3,
    })
}

/// Checks the SoundFont file at `path`.
pub fn check_file(path: &std::path::Path) -> Result<SoundFontSummary, SoundFontError> {
    // Looked at before opening: opening a FIFO blocks until someone writes to it.
    if !std::fs::metadata(path).map_err(io)?.is_file() {
        return Err(SoundFontError::Io("it is not a regular file".to_string()));
    }
    let file = std::fs::File::open(path).map_err(io)?;
    check(&mut std::io::BufReader::new(file))
}

fn io(err: std::io::Error) -> SoundFontError {
    SoundFontError::Io(err.to_string())
}

fn truncated(chunk: &str, container: &str) -> SoundFontError {
    SoundFontError::Truncated {
        chunk: chunk.to_string(),
        container: container.to_string(),
    }
}

fn le16(bytes: &[u8]) -> u16 {
    u16::from_le_bytes([bytes[0], bytes[1]])
}

fn le32(bytes: &[u8]) -> u32 {
    u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

/// A chunk's body: where it starts in the file and how long it is.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: u64,
    len: u32,
}

impl Span {
    fn end(self) -> u64 {
        self.start + u64::from(self.len)
    }
}

/// A chunk header and its body's span, checked to lie inside `container_end`.
fn next_chunk<R: Read + Seek>(
    reader: &mut R,
    at: u64,
    container_end: u64,
    container: &str,
) -> Result<([u8; 4], Span), SoundFontError> {
    reader.seek(SeekFrom::Start(at)).map_err(io)?;
    let mut header = [0u8; 8];
    reader
        .read_exact(&mut header)
        .map_err(|_| truncated("?", container))?;
    let id = [header[0], header[1], header[2], header[3]];
    let span = Span {
        start: at + 8,
        len: le32(&header[4..8]),
    };
    if span.end() > container_end {
        return Err(truncated(&String::from_utf8_lossy(&id), container));
    }
    Ok((id, span))
}

/// The chunks of a list (or the RIFF form) between `start` and `end`, each padded to even size.
fn chunks<R: Read + Seek>(
    reader: &mut R,
    start: u64,
    end: u64,
    container: &str,
) -> Result<Vec<([u8; 4], Span)>, SoundFontError> {
    let mut found = Vec::new();
    let mut at = start;
    // A chunk header is 8 bytes: fewer left over is padding, not a chunk.
    while at + 8 <= end {
        let (id, span) = next_chunk(reader, at, end, container)?;
        found.push((id, span));
        at = span.end() + u64::from(span.len % 2);
    }
    Ok(found)
}

/// The three lists of a SoundFont, by their form type.
#[derive(Default)]
struct Lists {
    info: Option<Span>,
    sdta: Option<Span>,
    pdta: Option<Span>,
}

fn top_level_lists<R: Read + Seek>(reader: &mut R, riff_end: u64) -> Result<Lists, SoundFontError> {
    let mut lists = Lists::default();
    for (id, span) in chunks(reader, 12, riff_end, "the file")? {
        if &id != b"LIST" || span.len < 4 {
            continue;
        }
        reader.seek(SeekFrom::Start(span.start)).map_err(io)?;
        let mut form = [0u8; 4];
        reader.read_exact(&mut form).map_err(io)?;
        let body = Span {
            start: span.start + 4,
            len: span.len - 4,
        };
        match &form {
            b"INFO" => lists.info = Some(body),
            b"sdta" => lists.sdta = Some(body),
            b"pdta" => lists.pdta = Some(body),
            _ => {}
        }
    }
    Ok(lists)
}

/// The major version from `ifil`.
fn version<R: Read + Seek>(reader: &mut R, info: Span) -> Result<u16, SoundFontError> {
    let (_, ifil) = chunks(reader, info.start, info.end(), "LIST INFO")?
        .into_iter()
        .find(|(id, _)| id == b"ifil")
        .ok_or(SoundFontError::Missing("ifil"))?;
    if ifil.len < 4 {
        return Err(truncated("ifil", "its record"));
    }
    reader.seek(SeekFrom::Start(ifil.start)).map_err(io)?;
    let mut body = [0u8; 4];
    reader.read_exact(&mut body).map_err(io)?;
    let (major, minor) = (le16(&body[0..2]), le16(&body[2..4]));
    if major == 2 || major == 3 {
        Ok(major)
    } else {
        Err(SoundFontError::Version { major, minor })
    }
}

/// The size of the `smpl` chunk (0 when absent: a font of ROM samples only).
fn sample_data_bytes<R: Read + Seek>(reader: &mut R, sdta: Span) -> Result<u32, SoundFontError> {
    Ok(chunks(reader, sdta.start, sdta.end(), "LIST sdta")?
        .into_iter()
        .find(|(id, _)| id == b"smpl")
        .map_or(0, |(_, span)| span.len))
}

/// The sample data the sample headers point into.
#[derive(Debug, Clone, Copy)]
struct SampleData {
    bytes: u32,
    /// SF3: samples may be Ogg streams, whose start and end count bytes, not 16-bit points.
    compressed: bool,
}

/// The nine preset tables, raw.
struct Tables {
    tables: Vec<Vec<u8>>,
}

fn read_tables<R: Read + Seek>(reader: &mut R, pdta: Span) -> Result<Tables, SoundFontError> {
    let found = chunks(reader, pdta.start, pdta.end(), "LIST pdta")?;
    let mut tables = Vec::with_capacity(TABLES.len());
    for (name, record) in TABLES {
        let (_, span) = found
            .iter()
            .find(|(id, _)| id == name.as_bytes())
            .ok_or(SoundFontError::Missing(name))?;
        if span.len % record != 0 || span.len > MAX_PRESET_DATA_BYTES {
            return Err(SoundFontError::RecordSize {
                table: name,
                bytes: span.len,
                record,
            });
        }
        reader.seek(SeekFrom::Start(span.start)).map_err(io)?;
        let mut body = vec![0u8; span.len as usize];
        reader.read_exact(&mut body).map_err(io)?;
        tables.push(body);
    }
    Ok(Tables { tables })
}

impl Tables {
    fn records(&self, table: usize) -> impl ExactSizeIterator<Item = &[u8]> {
        self.tables[table].chunks_exact(TABLES[table].1 as usize)
    }

    fn count(&self, table: usize) -> usize {
        self.records(table).len()
    }

    fn check(&self, data: SampleData) -> Result<SoundFontSummary, SoundFontError> {
        let [phdr, pbag, pmod, pgen, inst, ibag, imod, igen, shdr] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
        // Every table ends with a terminal record; presets, instruments and samples also need
        // one of their own.
        for table in [pbag, pmod, pgen, ibag, imod, igen] {
            let records = self.count(table);
            if records == 0 {
                return Err(SoundFontError::TooFew {
                    table: TABLES[table].0,
                    records,
                    needed: 1,
                });
            }
        }
        for (table, what) in [(phdr, "presets"), (inst, "instruments"), (shdr, "samples")] {
            if self.count(table) < 2 {
                return Err(SoundFontError::Empty(what));
            }
        }
        for table in [phdr, inst, shdr] {
            self.check_names(table)?;
        }
        self.check_rising(phdr, 24, pbag)?;
        self.check_rising(pbag, 0, pgen)?;
        self.check_rising(pbag, 2, pmod)?;
        self.check_rising(inst, 20, ibag)?;
        self.check_rising(ibag, 0, igen)?;
        self.check_rising(ibag, 2, imod)?;
        self.check_generator_targets(pgen, GENERATOR_INSTRUMENT, inst)?;
        self.check_generator_targets(igen, GENERATOR_SAMPLE_ID, shdr)?;
        self.check_global_zones(Level::PRESET)?;
        self.check_global_zones(Level::INSTRUMENT)?;
        self.check_samples(data)?;
        Ok(SoundFontSummary {
            presets: self.count(phdr) - 1,
            instruments: self.count(inst) - 1,
            samples: self.count(shdr) - 1,
        })
    }

    /// Every record's name (20 bytes, up to the first NUL) is UTF-8.
    fn check_names(&self, table: usize) -> Result<(), SoundFontError> {
        for (record, bytes) in self.records(table).enumerate() {
            if name(bytes).is_none() {
                return Err(SoundFontError::Name {
                    table: TABLES[table].0,
                    record,
                });
            }
        }
        Ok(())
    }

    /// The 16-bit index at `offset` in every record of `table` rises (or stays) and stays within
    /// `target`, whose last record is its terminal; the terminal record of `table` points to it.
    fn check_rising(
        &self,
        table: usize,
        offset: usize,
        target: usize,
    ) -> Result<(), SoundFontError> {
        let last = (self.count(target) - 1) as u32;
        let terminal = self.count(table) - 1;
        let mut previous = 0;
        for (record, bytes) in self.records(table).enumerate() {
            let index = u32::from(le16(&bytes[offset..offset + 2]));
            if index < previous || index > last || (record == terminal && index != last) {
                return Err(index_error(table, record, target, index, last));
            }
            previous = index;
        }
        Ok(())
    }

    /// Only the first zone of a preset or instrument may lack its terminal generator (it is then
    /// the global zone). Indices are in range: [`Self::check_rising`] ran first.
    fn check_global_zones(&self, level: Level) -> Result<(), SoundFontError> {
        let headers: Vec<&[u8]> = self.records(level.headers).collect();
        let bags: Vec<&[u8]> = self.records(level.bags).collect();
        let generators: Vec<&[u8]> = self.records(level.generators).collect();
        let bag_of = |header: &[u8]| usize::from(le16(&header[level.bag_offset..]));
        let generator_of = |bag: &[u8]| usize::from(le16(bag));
        for (record, pair) in headers.windows(2).enumerate() {
            let zones = bag_of(pair[0])..bag_of(pair[1]);
            for (zone, bag) in zones.clone().enumerate().skip(1) {
                let own = &generators[generator_of(bags[bag])..generator_of(bags[bag + 1])];
                if !own.iter().any(|g| le16(g) == level.terminal_operator) {
                    return Err(SoundFontError::Zone {
                        owner: level.owner,
                        record,
                        name: name(pair[0]).unwrap_or_default().to_string(),
                        zone,
                        missing: level.missing,
                    });
                }
            }
        }
        Ok(())
    }

    /// Every generator `operator` in `table` names a record of `target` other than its terminal.
    fn check_generator_targets(
        &self,
        table: usize,
        operator: u16,
        target: usize,
    ) -> Result<(), SoundFontError> {
        let last = (self.count(target) - 2) as u32;
        for (record, bytes) in self.records(table).enumerate() {
            let index = u32::from(le16(&bytes[2..4]));
            if le16(&bytes[0..2]) == operator && index > last {
                return Err(index_error(table, record, target, index, last));
            }
        }
        Ok(())
    }

    fn check_samples(&self, data: SampleData) -> Result<(), SoundFontError> {
        let samples = self.count(8) - 1;
        for (index, bytes) in self.records(8).take(samples).enumerate() {
            let header = SampleHeader::read(bytes);
            header.problem(data, samples).map_or(Ok(()), |problem| {
                Err(SoundFontError::Sample {
                    sample: index,
                    name: header.name.clone(),
                    problem,
                })
            })?;
        }
        Ok(())
    }
}

/// Record `record` of table `table` points to `index` of table `target`, which it may not.
fn index_error(
    table: usize,
    record: usize,
    target: usize,
    index: u32,
    last: u32,
) -> SoundFontError {
    SoundFontError::Index {
        table: TABLES[table].0,
        record,
        target: TABLES[target].0,
        index,
        last,
    }
}

/// The name at the start of a preset, instrument or sample record: 20 bytes, NUL-padded.
fn name(record: &[u8]) -> Option<&str> {
    let field = &record[..20];
    let len = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    std::str::from_utf8(&field[..len]).ok()
}

/// The tables of one level of the hierarchy (presets, or instruments) and how a zone ends.
struct Level {
    headers: usize,
    bag_offset: usize,
    bags: usize,
    generators: usize,
    terminal_operator: u16,
    owner: &'static str,
    missing: &'static str,
}

impl Level {
    const PRESET: Self = Self {
        headers: 0,
        bag_offset: 24,
        bags: 1,
        generators: 3,
        terminal_operator: GENERATOR_INSTRUMENT,
        owner: "preset",
        missing: "an instrument",
    };
    const INSTRUMENT: Self = Self {
        headers: 4,
        bag_offset: 20,
        bags: 5,
        generators: 7,
        terminal_operator: GENERATOR_SAMPLE_ID,
        owner: "instrument",
        missing: "a sample",
    };
}

/// The fields of a sample header that point into the sample data.
struct SampleHeader {
    name: String,
    start: u32,
    end: u32,
    loop_start: u32,
    loop_end: u32,
    link: u16,
    kind: u16,
}

impl SampleHeader {
    fn read(bytes: &[u8]) -> Self {
        Self {
            name: name(bytes).unwrap_or_default().to_string(),
            start: le32(&bytes[20..24]),
            end: le32(&bytes[24..28]),
            loop_start: le32(&bytes[28..32]),
            loop_end: le32(&bytes[32..36]),
            link: le16(&bytes[42..44]),
            kind: le16(&bytes[44..46]),
        }
    }

    /// What is wrong with this header, if anything, given the sample data and how many sample
    /// headers there are (terminal excluded).
    fn problem(&self, data: SampleData, samples: usize) -> Option<String> {
        if self.kind & SAMPLE_ROM != 0 {
            return Some("ROM sample data, which a file cannot supply".to_string());
        }
        // Mono, right, left or linked; SF3 adds the compressed bit. fluidlite decodes any sample
        // marked compressed as Ogg, even in an SF2 file, and crashes on what is not.
        let compressed = self.kind & SAMPLE_COMPRESSED != 0;
        let channel = self.kind & !SAMPLE_COMPRESSED;
        if !matches!(channel, 1 | 2 | 4 | 8) || (compressed && !data.compressed) {
            return Some(format!(
                "type {:#06x}, not mono, left, right or linked{}",
                self.kind,
                if data.compressed {
                    ""
                } else {
                    " (an SF2 file has no compressed samples)"
                }
            ));
        }
        // 16-bit points, or bytes of an Ogg stream in SF3.
        let available = if compressed {
            data.bytes
        } else {
            data.bytes / 2
        };
        if !(self.start < self.end && self.end <= available) {
            return Some(format!(
                "start {} and end {} outside the {available} {} of sample data",
                self.start,
                self.end,
                if compressed { "bytes" } else { "points" }
            ));
        }
        // SF3 loop points count decoded points from the sample's start, which only decoding
        // can check; fluidlite clamps them to the decoded length.
        let loop_inside = self.start <= self.loop_start
            && self.loop_start <= self.loop_end
            && self.loop_end <= self.end;
        if !compressed && !loop_inside {
            return Some(format!(
                "loop {}..{} outside its data {}..{}",
                self.loop_start, self.loop_end, self.start, self.end
            ));
        }
        // Linked stereo halves name their partner by index.
        let linked = self.kind & 0x0e != 0;
        if linked && usize::from(self.link) >= samples {
            return Some(format!(
                "a link to sample {}, past the last of {samples}",
                self.link
            ));
        }
        None
    }
}
