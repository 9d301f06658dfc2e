//! The SoundFont piano: pitch of rendered notes, timing, length, WAV files, and the playback
//! source driven into a buffer (no audio device needed). Needs a SoundFont: the system one that
//! set-up installs; each test skips with a reason without it.

use std::path::PathBuf;

use cadenza_core::audio::{
    self, AudioError, AudioOutput, PianoSynth, SAMPLE_RATE, TransportCommand, WavFormat,
};
use cadenza_core::midi::{Note, Piece};
use rustfft::FftPlanner;
use rustfft::num_complex::Complex;

fn soundfont(test: &str) -> Option<PathBuf> {
    crate::support::fixtures::system_soundfont(test)
}

fn synth(path: &std::path::Path) -> PianoSynth {
    PianoSynth::new(path, audio::DEFAULT_GAIN).expect("SoundFont loads")
}

fn note(pitch: u8, start_s: f64, end_s: f64) -> Note {
    Note {
        pitch,
        start_s,
        end_s,
        velocity: 90,
    }
}

/// Left+right mixed to mono, frames `from..to` (seconds).
fn mono(samples: &[f32], from_s: f64, to_s: f64) -> Vec<f32> {
    let frame = |s: f64| (s * f64::from(SAMPLE_RATE)) as usize;
    samples
        .chunks_exact(2)
        .skip(frame(from_s))
        .take(frame(to_s) - frame(from_s))
        .map(|lr| (lr[0] + lr[1]) / 2.0)
        .collect()
}

/// Magnitude spectrum (Hann window, zero-padded to 2^17 points: 0.34 Hz per bin).
fn spectrum(signal: &[f32]) -> Vec<f32> {
    let size = 1 << 17;
    let n = signal.len().min(size);
    let mut buffer: Vec<Complex<f32>> = (0..size)
        .map(|i| {
            if i < n {
                let w = 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / n as f32).cos();
                Complex::new(signal[i] * w, 0.0)
            } else {
                Complex::new(0.0, 0.0)
            }
        })
        .collect();
    FftPlanner::new()
        .plan_fft_forward(size)
        .process(&mut buffer);
    buffer[..size / 2].iter().map(|c| c.norm()).collect()
}

fn bin_hz(bin: usize) -> f64 {
    bin as f64 * f64::from(SAMPLE_RATE) / f64::from(1u32 << 17)
}

/// The strongest bin within `cents` of `hz`, and its magnitude.
fn strongest_near(spectrum: &[f32], hz: f64, cents: f64) -> (f64, f32) {
    let ratio = 2f64.powf(cents / 1200.0);
    let lo = (hz / ratio / bin_hz(1)) as usize;
    let hi = (hz * ratio / bin_hz(1)) as usize;
    (lo..=hi)
        .map(|b| (bin_hz(b), spectrum[b]))
        .fold((0.0, 0.0), |best, x| if x.1 > best.1 { x } else { best })
}

fn rms(signal: &[f32]) -> f32 {
    (signal.iter().map(|s| s * s).sum::<f32>() / signal.len().max(1) as f32).sqrt()
}

#[test]
fn a4_renders_at_440_hz() {
    let Some(path) = soundfont("a4_renders_at_440_hz") else {
        return;
    };
    let piece = Piece::from_notes(vec![note(69, 0.0, 1.5)]);
    let samples = audio::render(&piece, synth(&path), 0.5, &|_| {});
    let spectrum = spectrum(&mono(&samples, 0.05, 1.5));
    let (peak_bin, _) = spectrum
        .iter()
        .enumerate()
        .skip(1)
        .fold(
            (0, 0.0f32),
            |best, (i, &m)| if m > best.1 { (i, m) } else { best },
        );
    let hz = bin_hz(peak_bin);
    println!("A4 strongest peak at {hz:.2} Hz");
    assert!((hz - 440.0).abs() <= 2.0, "strongest peak at {hz} Hz");
}

#[test]
fn a_c_major_chord_shows_its_three_fundamentals() {
    let Some(path) = soundfont("a_c_major_chord_shows_its_three_fundamentals") else {
        return;
    };
    let chord = vec![note(60, 0.0, 1.5), note(64, 0.0, 1.5), note(67, 0.0, 1.5)];
    let samples = audio::render(&Piece::from_notes(chord), synth(&path), 0.5, &|_| {});
    let spectrum = spectrum(&mono(&samples, 0.05, 1.5));
    let loudest = spectrum.iter().copied().fold(0.0, f32::max);
    for (name, hz) in [("C4", 261.63), ("E4", 329.63), ("G4", 392.0)] {
        let (found, magnitude) = strongest_near(&spectrum, hz, 20.0);
        println!(
            "{name}: peak at {found:.2} Hz, {:.0}% of the loudest",
            magnitude / loudest * 100.0
        );
        assert!((found - hz).abs() < 2.0, "{name} peak at {found}");
        assert!(
            magnitude > 0.1 * loudest,
            "{name} is only {magnitude} of {loudest}"
        );
        // A clear peak: far above the spectrum a semitone away.
        let (_, between) = strongest_near(&spectrum, hz * 2f64.powf(1.5 / 12.0), 30.0);
        assert!(
            magnitude > 5.0 * between,
            "{name}: {magnitude} vs {between} between notes"
        );
    }
}

#[test]
fn silence_before_the_first_onset_and_at_the_end_of_the_tail_and_exact_length() {
    let Some(path) = soundfont("silence_before_the_first_onset") else {
        return;
    };
    let piece = Piece::from_notes(vec![note(60, 0.5, 0.8), note(72, 0.6, 1.0)]);
    let tail = 3.0;
    let samples = audio::render(&piece, synth(&path), tail, &|_| {});
    let expected_frames = ((1.0 + tail) * f64::from(SAMPLE_RATE)).round() as usize;
    assert_eq!(samples.len(), expected_frames * 2, "piece length plus tail");
    let before = mono(&samples, 0.0, 0.499);
    let loudest_before = before.iter().fold(0.0f32, |m, s| m.max(s.abs()));
    assert!(
        loudest_before < 1e-4,
        "sound before the first onset: {loudest_before}"
    );
    let during = rms(&mono(&samples, 0.5, 1.0));
    let end = rms(&mono(&samples, 3.9, 4.0));
    println!("rms while playing {during}, at the end of the tail {end}");
    assert!(during > 0.01, "too quiet: {during}");
    assert!(
        end < during / 100.0,
        "still ringing at the end of the tail: {end}"
    );
}

#[test]
fn dense_chords_do_not_clip_at_the_default_gain() {
    let Some(path) = soundfont("dense_chords_do_not_clip") else {
        return;
    };
    // Ten-note fortissimo chords in both hands, struck again every 150 ms with the pedal down.
    let mut notes = Vec::new();
    for strike in 0..20 {
        let t = strike as f64 * 0.15;
        for pitch in [36, 43, 48, 52, 55, 60, 64, 67, 72, 76] {
            notes.push(Note {
                velocity: 127,
                ..note(pitch, t, t + 0.14)
            });
        }
    }
    let mut piece = Piece::from_notes(notes);
    piece.pedal.push(cadenza_core::midi::PedalInterval {
        start_s: 0.0,
        end_s: 3.0,
    });
    let samples = audio::render(&piece, synth(&path), 1.0, &|_| {});
    let peak = audio::peak(&samples);
    println!("peak {:.1} dBFS", 20.0 * peak.log10());
    assert!(peak <= 0.9, "clips: peak {peak}");
    assert!(peak > 0.25, "too quiet for fortissimo: {peak}");
}

#[test]
fn the_playback_source_plays_pauses_seeks_and_stops() {
    let Some(path) = soundfont("the_playback_source_plays_pauses_seeks_and_stops") else {
        return;
    };
    // A4 for the first second, then C6 for the next.
    let piece = Piece::from_notes(vec![note(69, 0.0, 1.0), note(84, 1.0, 2.0)]);
    let (transport, mut source) = audio::playback(synth(&path));
    let mut pull = |seconds: f64| -> Vec<f32> {
        (&mut source)
            .take((seconds * f64::from(SAMPLE_RATE)) as usize * 2)
            .collect()
    };
    transport.load(&piece, false);
    assert!(pull(0.1).iter().all(|s| *s == 0.0), "silent until Play");

    transport.send(TransportCommand::Play);
    let playing = pull(0.5);
    assert!(rms(&playing) > 0.01);
    assert!(
        (transport.position_s() - 0.5).abs() < 0.01,
        "{}",
        transport.position_s()
    );
    assert!(transport.is_playing());

    transport.send(TransportCommand::Pause);
    let paused = pull(0.3);
    // The block in flight when the command came may still carry sound; after it, silence.
    assert!(
        paused[1024..].iter().all(|s| *s == 0.0),
        "silent when paused"
    );
    let held = transport.position_s();
    assert!((held - 0.5).abs() < 0.01, "position held at {held}");

    transport.send(TransportCommand::Seek(1.2));
    transport.send(TransportCommand::Play);
    let after_seek = pull(0.6);
    // The A4's reverb may linger briefly after the jump; the notes themselves are cut.
    let spectrum = spectrum(&mono(&after_seek, 0.2, 0.6));
    let (_, c6) = strongest_near(&spectrum, 1046.5, 20.0);
    let (_, a4) = strongest_near(&spectrum, 440.0, 20.0);
    assert!(
        c6 > 10.0 * a4,
        "after seeking to 1.2 s the C6 sounds: C6 {c6}, A4 {a4}"
    );

    transport.send(TransportCommand::Volume(0.0));
    assert!(
        pull(0.1)[1024..].iter().all(|s| *s == 0.0),
        "volume 0 is silent"
    );
    transport.send(TransportCommand::Volume(1.0));

    transport.send(TransportCommand::Stop);
    assert!(
        pull(0.1)[1024..].iter().all(|s| *s == 0.0),
        "silent when stopped"
    );
    assert_eq!(transport.position_s(), 0.0);
    assert!(!transport.is_playing());

    // Played to the end (plus the tail), playback stops by itself.
    transport.send(TransportCommand::Play);
    pull(5.0);
    assert!(!transport.is_playing());
    assert!(transport.position_s() >= 2.0);
}

#[test]
fn an_audition_stops_where_its_range_ends_even_when_the_player_reports_late() {
    let Some(path) = soundfont("an_audition_stops_where_its_range_ends") else {
        return;
    };
    let piece = Piece::from_notes(vec![note(69, 0.0, 30.0)]);
    let (transport, mut source) = audio::playback(synth(&path));
    transport.load(&piece, false);
    // The UI asks for the range and looks again only long after (no frame in between saw the
    // player playing): the source itself pauses at the range's end.
    transport.send(TransportCommand::PlayRange {
        from_s: 1.0,
        until_s: 2.5,
    });
    assert!(!transport.is_playing(), "nothing pulled yet");
    let pulled: Vec<f32> = (&mut source).take(5 * SAMPLE_RATE as usize * 2).collect();
    assert!(!transport.is_playing(), "paused by itself");
    assert!(
        (transport.position_s() - 2.5).abs() < 1e-3,
        "the playhead rests at the range's end: {}",
        transport.position_s()
    );
    assert!(rms(&mono(&pulled, 0.2, 1.4)) > 0.01, "the range sounds");
    assert!(
        pulled[(1.6 * f64::from(SAMPLE_RATE)) as usize * 2..]
            .iter()
            .all(|s| *s == 0.0),
        "silent after it"
    );
    // Play after an audition goes on from where it rested, without stopping again at 2.5 s.
    transport.send(TransportCommand::Play);
    (&mut source).take(SAMPLE_RATE as usize * 2).for_each(drop);
    assert!(transport.is_playing());
    assert!(transport.position_s() > 3.0, "{}", transport.position_s());
}

#[test]
fn a_loop_repeats_its_range() {
    let Some(path) = soundfont("a_loop_repeats_its_range") else {
        return;
    };
    let piece = Piece::from_notes(vec![note(69, 0.0, 1.0), note(84, 1.0, 4.0)]);
    let (transport, mut source) = audio::playback(synth(&path));
    transport.load(&piece, false);
    transport.send(TransportCommand::Loop(Some((0.0, 0.5))));
    transport.send(TransportCommand::Play);
    let mut latest = 0.0f64;
    for _ in 0..2000 {
        (&mut source).take(512).for_each(drop);
        latest = latest.max(transport.position_s());
    }
    assert!(latest <= 0.51, "never leaves the loop: reached {latest}");
    assert!(transport.is_playing());
}

#[test]
fn without_an_audio_device_opening_output_is_a_clear_error() {
    let Some(path) = soundfont("without_an_audio_device_opening_output_is_a_clear_error") else {
        return;
    };
    let (transport, source) = audio::playback(synth(&path));
    if std::env::var_os(NULL_DEVICE_CHILD).is_some() {
        // The child run below: ALSA's null device is the default output, so playback opens and
        // the player moves (the null device is not paced, so it moves fast).
        let output = AudioOutput::open(source).expect("the null device opens");
        assert!(output.has_device());
        transport.load(&Piece::from_notes(vec![note(60, 0.0, 0.5)]), false);
        transport.send(TransportCommand::Play);
        let started = std::time::Instant::now();
        while transport.position_s() < 0.2 {
            assert!(started.elapsed().as_secs() < 10, "playback does not move");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        return;
    }
    match AudioOutput::open(source) {
        Ok(output) => assert!(output.has_device(), "an open output has a device"),
        Err(err @ AudioError::NoDevice(_)) => {
            assert!(err.to_string().contains("render to WAV"), "{err}")
        }
        Err(other) => panic!("unexpected error: {other}"),
    }
    // The device branch, whatever this machine has: the same test in a child process whose
    // default ALSA output is the null device.
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("alsa.conf");
    std::fs::write(
        &config,
        "</usr/share/alsa/alsa.conf>\npcm.!default { type null }\nctl.!default { type hw card 0 }\n",
    )
    .expect("config written");
    let child = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "audio::without_an_audio_device_opening_output_is_a_clear_error",
            "--exact",
            "--nocapture",
        ])
        .env("ALSA_CONFIG_PATH", &config)
        .env(NULL_DEVICE_CHILD, "1")
        .output()
        .expect("the test binary runs");
    let stdout = String::from_utf8_lossy(&child.stdout);
    assert!(
        child.status.success() && stdout.contains("1 passed"),
        "the null-device run failed: {stdout}{}",
        String::from_utf8_lossy(&child.stderr)
    );
}

/// Set in the child run of the audio-device test.
const NULL_DEVICE_CHILD: &str = "CADENZA_TEST_NULL_AUDIO_DEVICE";

#[test]
fn wav_files_round_trip_and_failures_leave_nothing_behind() {
    let dir = tempfile::tempdir().expect("temp dir");
    let samples: Vec<f32> = (0..2000).map(|i| ((i as f32) * 0.01).sin() * 0.5).collect();
    for format in [WavFormat::S16, WavFormat::F32] {
        let path = dir.path().join(format!("{format:?}.wav"));
        audio::write_wav(&samples, &path, format).expect("written");
        let mut reader = hound::WavReader::open(&path).expect("valid WAV");
        assert_eq!(reader.spec().channels, 2);
        assert_eq!(reader.spec().sample_rate, SAMPLE_RATE);
        let read: Vec<f32> = match format {
            WavFormat::S16 => reader
                .samples::<i16>()
                .map(|s| f32::from(s.expect("sample")) / f32::from(i16::MAX))
                .collect(),
            WavFormat::F32 => reader
                .samples::<f32>()
                .map(|s| s.expect("sample"))
                .collect(),
        };
        assert_eq!(read.len(), samples.len());
        assert!(read.iter().zip(&samples).all(|(a, b)| (a - b).abs() < 1e-4));
    }
    let unwritable = dir.path().join("missing-folder/out.wav");
    let err = audio::write_wav(&samples, &unwritable, WavFormat::S16).expect_err("fails");
    assert!(err.to_string().contains("missing-folder"), "{err}");
    assert!(!dir.path().join("missing-folder").exists());
}

#[test]
fn a_corrupt_or_missing_soundfont_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let corrupt = dir.path().join("broken.sf2");
    std::fs::write(&corrupt, b"RIFF\x10\x00\x00\x00sfbkLIST garbage").expect("written");
    let err = PianoSynth::new(&corrupt, 0.8).expect_err("refused");
    assert!(matches!(err, AudioError::BadSoundFont { .. }), "{err}");
    assert!(err.to_string().contains("broken.sf2"), "{err}");
    let err = PianoSynth::new(&dir.path().join("none.sf2"), 0.8).expect_err("refused");
    assert!(err.to_string().contains("none.sf2"), "{err}");

    // The user's choice comes first; a folder yields its first SoundFont by name; a corrupt
    // choice is passed over, with the reason.
    let folder = dir.path().join("soundfonts");
    std::fs::create_dir(&folder).expect("mkdir");
    let valid = crate::support::soundfont::tiny_soundfont();
    std::fs::write(folder.join("b.sf2"), &valid).expect("written");
    std::fs::write(folder.join("a.sf3"), &valid).expect("written");
    std::fs::write(folder.join("notes.txt"), b"x").expect("written");
    assert_eq!(
        audio::find_soundfont(Some(&folder)).expect("found"),
        folder.join("a.sf3")
    );
    let search = audio::search_soundfont(Some(&corrupt));
    assert_ne!(search.found.ok(), Some(corrupt));
    assert!(search.refused[0].to_string().contains("broken.sf2"));
}

#[test]
fn the_synth_has_the_voices_it_asks_for() {
    // `set_polyphony` can only lower fluidlite's limit (256): 512 voices were never granted.
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("sine.sf2");
    std::fs::write(&path, crate::support::soundfont::tiny_soundfont()).expect("written");
    assert_eq!(synth(&path).polyphony(), 512);
}

#[test]
fn a_piece_rendered_straight_to_wav_matches_the_render_in_memory() {
    let dir = tempfile::tempdir().expect("temp dir");
    let font = dir.path().join("sine.sf2");
    std::fs::write(&font, crate::support::soundfont::tiny_soundfont()).expect("written");
    // 2.5 s of notes plus a 0.7 s tail: blocks of one second and a partial last one.
    let piece = Piece::from_notes(vec![note(60, 0.0, 1.2), note(72, 1.0, 2.5)]);
    let in_memory = dir.path().join("memory.wav");
    let samples = audio::render(&piece, synth(&font), 0.7, &|_| {});
    audio::write_wav(&samples, &in_memory, WavFormat::S16).expect("written");
    let streamed = dir.path().join("streamed.wav");
    let rendered = audio::render_wav(
        &piece,
        synth(&font),
        0.7,
        &streamed,
        WavFormat::S16,
        &|_| {},
    )
    .expect("rendered");
    assert_eq!(
        std::fs::read(&streamed).expect("read"),
        std::fs::read(&in_memory).expect("read")
    );
    assert_eq!(rendered.peak, audio::peak(&samples));
    assert!((rendered.seconds - samples.len() as f64 / 2.0 / f64::from(SAMPLE_RATE)).abs() < 1e-9);
    assert_eq!(
        WavFormat::S16.file_bytes(samples.len() as u64 / 2),
        std::fs::metadata(&streamed).expect("written").len()
    );
}
