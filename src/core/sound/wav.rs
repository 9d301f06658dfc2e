//! WAV files: written through a temporary file (a failure never leaves half a file), and a
//! piece rendered straight into one a second at a time, after checking the disk can hold it.

use std::path::Path;

use super::{AudioError, CHANNELS, PianoSynth, SAMPLE_RATE, Score, render_blocks};
use crate::base::files::Temporary;
use crate::music::midi::Piece;

/// How WAV samples are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WavFormat {
    /// 16-bit integers (CD quality; every program reads it).
    #[default]
    S16,
    /// 32-bit floats (no rounding; for further editing).
    F32,
}

impl WavFormat {
    fn bits(self) -> u16 {
        match self {
            Self::S16 => 16,
            Self::F32 => 32,
        }
    }

    /// Bytes a file of `frames` stereo frames takes (the 44-byte header included).
    pub fn file_bytes(self, frames: u64) -> u64 {
        44 + frames * u64::from(CHANNELS) * u64::from(self.bits() / 8)
    }
}

impl std::str::FromStr for WavFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "s16" => Ok(Self::S16),
            "f32" => Ok(Self::F32),
            other => Err(format!("unknown WAV format {other:?}: use s16 or f32")),
        }
    }
}

/// What a render to WAV made.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rendered {
    /// Seconds of audio written.
    pub seconds: f64,
    /// Largest absolute sample value.
    pub peak: f32,
}

/// A WAV file being written to a temporary name beside its destination.
struct WavOut {
    writer: hound::WavWriter<std::io::BufWriter<std::fs::File>>,
    temporary: Temporary,
    format: WavFormat,
}

fn wav_error(path: &Path) -> impl Fn(String) -> AudioError + '_ {
    move |reason| AudioError::Wav {
        path: path.to_path_buf(),
        reason,
    }
}

impl WavOut {
    fn create(path: &Path, format: WavFormat) -> Result<Self, AudioError> {
        let error = wav_error(path);
        let spec = hound::WavSpec {
            channels: CHANNELS,
            sample_rate: SAMPLE_RATE,
            bits_per_sample: format.bits(),
            sample_format: match format {
                WavFormat::S16 => hound::SampleFormat::Int,
                WavFormat::F32 => hound::SampleFormat::Float,
            },
        };
        let temporary = Temporary::beside(path, ".wav").map_err(|e| error(e.source.to_string()))?;
        let writer = hound::WavWriter::create(temporary.path(), spec)
            .map_err(|err| error(err.to_string()))?;
        Ok(Self {
            writer,
            temporary,
            format,
        })
    }

    /// Appends interleaved stereo samples; beyond ±1 they clip in s16.
    fn write(&mut self, samples: &[f32]) -> Result<(), hound::Error> {
        for &sample in samples {
            match self.format {
                WavFormat::S16 => self
                    .writer
                    .write_sample((sample.clamp(-1.0, 1.0) * f32::from(i16::MAX)).round() as i16)?,
                WavFormat::F32 => self.writer.write_sample(sample)?,
            }
        }
        Ok(())
    }

    fn finish(self, path: &Path) -> Result<(), AudioError> {
        let error = wav_error(path);
        self.writer
            .finalize()
            .map_err(|err| error(err.to_string()))?;
        self.temporary
            .commit(path)
            .map_err(|err| error(err.source.to_string()))
    }
}

/// Writes interleaved stereo samples as a WAV file, through a temporary file so a failure never
/// leaves a half-written file behind. Samples beyond ±1 are clipped in s16.
pub fn write_wav(samples: &[f32], path: &Path, format: WavFormat) -> Result<(), AudioError> {
    let mut out = WavOut::create(path, format)?;
    out.write(samples)
        .map_err(|err| wav_error(path)(err.to_string()))?;
    out.finish(path)
}

/// Renders `piece` (plus `tail_s`) into a WAV file a second at a time: memory stays that of one
/// second whatever the length. The file's size is worked out first and refused, before any
/// work, when the disk it goes to has less room.
pub fn render_wav(
    piece: &Piece,
    synth: PianoSynth,
    tail_s: f64,
    path: &Path,
    format: WavFormat,
    progress: &dyn Fn(f64),
) -> Result<Rendered, AudioError> {
    let score = Score::new(piece);
    let frames = score.frames_with_tail(tail_s);
    check_room(path, format.file_bytes(frames))?;
    let mut out = WavOut::create(path, format)?;
    let mut peak = 0.0f32;
    render_blocks(score, synth, tail_s, progress, &mut |block| {
        peak = block.iter().fold(peak, |m, s| m.max(s.abs()));
        out.write(block)
    })
    .map_err(|err| wav_error(path)(err.to_string()))?;
    out.finish(path)?;
    Ok(Rendered {
        seconds: frames as f64 / f64::from(SAMPLE_RATE),
        peak,
    })
}

/// Refuses a file of `bytes` where the disk holding `path`'s folder has less room.
fn check_room(path: &Path, bytes: u64) -> Result<(), AudioError> {
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let Some(free) = free_bytes(folder) else {
        return Ok(());
    };
    if bytes > free {
        return Err(wav_error(path)(format!(
            "the WAV file needs {} MB and the disk has {} MB free",
            bytes.div_ceil(1 << 20),
            free >> 20
        )));
    }
    Ok(())
}

/// Bytes an unprivileged user may still write on the file system holding `folder`.
fn free_bytes(folder: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let name = std::ffi::CString::new(folder.as_os_str().as_bytes()).ok()?;
    let mut stats: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `name` is a NUL-terminated path and `stats` a writable statvfs.
    let status = unsafe { libc::statvfs(name.as_ptr(), &mut stats) };
    (status == 0).then(|| stats.f_bavail * stats.f_frsize)
}
