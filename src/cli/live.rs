//! `cadenza ports` (the MIDI ports there are) and `cadenza duet` (call and response with a MIDI
//! keyboard, the answers sent to a MIDI output).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use cadenza_core::generate::SamplingSettings;
use cadenza_core::live::{
    AnswerEvent, AnswerRequest, AnswerStep, Answerer, Answering, DEFAULT_SILENCE_S, Duet, DuetStep,
    LiveClock, MidiKeyboard, MidiOut, MidiPortError, Schedule, find_port, input_ports,
    output_ports, spawn_answerer,
};
use cadenza_core::model::DeviceChoice;
use cadenza_core::worker::{Event, no_repaint};

/// How often the duet looks at its clock: 2 ms keeps hand-over and answer notes within a few
/// milliseconds of their times.
const TICK: Duration = Duration::from_millis(2);

/// Options of `cadenza duet`.
#[derive(Debug, clap::Args)]
pub struct DuetArgs {
    /// The MIDI input to listen to: its id, its name, or part of it (`cadenza ports` lists them).
    #[arg(long = "in")]
    input: String,
    /// The MIDI output the answers go to; without it, a virtual port named "Cadenza" (Linux and
    /// macOS) for a DAW or synth to connect to.
    #[arg(long = "out")]
    output: Option<String>,
    /// The model answering: a checkpoint (stem or either file), or "starter".
    #[arg(long, default_value = "starter", value_parser = super::checkpoint_arg)]
    checkpoint: PathBuf,
    /// Seconds of silence, every key and the pedal up, that end your turn.
    #[arg(long, default_value_t = DEFAULT_SILENCE_S)]
    silence: f64,
    /// Seed of the first answer (each answer takes the next).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Keep each exchange (your call and the answer) as a MIDI file in this folder.
    #[arg(long)]
    keep: Option<PathBuf>,
}

/// Prints the MIDI inputs and outputs, or why there are none.
pub fn ports() -> Result<()> {
    for (kind, ports) in [("Inputs", input_ports()), ("Outputs", output_ports())] {
        match ports {
            Ok(ports) if ports.is_empty() => println!("{kind}: none"),
            Ok(ports) => {
                println!("{kind}:");
                for port in ports {
                    println!("  {}  (id {})", port.name, port.id);
                }
            }
            Err(err @ MidiPortError::NoMidiSystem(_)) => {
                println!("{err}");
                return Ok(());
            }
            Err(err) => return Err(err.into()),
        }
    }
    Ok(())
}

/// Plays call and response until Ctrl+C.
pub fn duet(args: &DuetArgs) -> Result<()> {
    if let Some(keep) = &args.keep {
        std::fs::create_dir_all(keep)
            .with_context(|| format!("cannot create {}", keep.display()))?;
    }
    let clock = LiveClock::start();
    let (touches, played) = crossbeam_channel::unbounded();
    let inputs = input_ports()?;
    let _keyboard = MidiKeyboard::connect(find_port(&inputs, &args.input)?, clock, move |touch| {
        // The receiver goes only when the duet ends.
        let _ = touches.send(touch);
    })?;
    let mut out = match &args.output {
        Some(name) => MidiOut::connect(find_port(&output_ports()?, name)?)?,
        None => virtual_out()?,
    };
    let mut answerer = spawn_answerer(args.checkpoint.clone(), DeviceChoice::Auto, no_repaint());
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = Arc::clone(&stop);
    let _ = ctrlc::set_handler(move || stopping.store(true, Ordering::Relaxed));
    eprintln!(
        "Listening on {}, answering on {} after {:.1} s of silence. Ctrl+C ends.",
        args.input,
        out.name(),
        args.silence
    );
    let mut session = Session {
        duet: Duet::new(args.silence),
        answering: Answering::default(),
        answer: Schedule::default(),
        playing: false,
        exchanges: 0,
        seed: args.seed,
        keep: args.keep.clone(),
    };
    while !stop.load(Ordering::Relaxed) {
        while let Ok(touch) = played.try_recv() {
            if session.duet.play(touch) == Some(DuetStep::StopAnswer) {
                session.stop_answer();
                out.silence()?;
            }
        }
        let now_s = clock.now_s();
        for step in session.answering.tick(&mut session.duet, now_s, false) {
            session.take(step, &answerer, now_s)?;
        }
        while let Some(event) = answerer.try_event() {
            match event {
                Event::Update(AnswerEvent::Ready { device }) => {
                    eprintln!("Model ready on {device}")
                }
                Event::Update(AnswerEvent::Answered { exchange, call, .. }) => {
                    if let Some(step) = session.answering.answered(call, exchange) {
                        session.take(step, &answerer, clock.now_s())?;
                    }
                }
                Event::Update(AnswerEvent::Failed(message)) => {
                    eprintln!("No answer: {message}");
                    session.answering.forget();
                    session.duet.answered();
                }
                Event::Failed { message } => bail!("the model cannot answer: {message}"),
                _ => {}
            }
        }
        for touch in session.answer.due(clock.now_s()).to_vec() {
            out.send(touch.touch)?;
        }
        if session.playing && session.answer.is_done() {
            session.playing = false;
            session.duet.answered();
        }
        std::thread::sleep(TICK);
    }
    out.silence()?;
    Ok(())
}

/// A duet in the terminal: the turn-taking, the answers, the one playing.
struct Session {
    duet: Duet,
    answering: Answering,
    answer: Schedule,
    playing: bool,
    exchanges: usize,
    seed: u64,
    keep: Option<PathBuf>,
}

impl Session {
    fn take(&mut self, step: AnswerStep, answerer: &Answerer, now_s: f64) -> Result<()> {
        match step {
            AnswerStep::Ask(call) => {
                answerer.send(AnswerRequest {
                    call,
                    settings: SamplingSettings {
                        seed: self.seed,
                        ..SamplingSettings::default()
                    },
                    controls: Default::default(),
                });
                self.seed += 1;
            }
            AnswerStep::Play(call, exchange) => {
                let start_s = call.answer_start_s(now_s);
                self.answer =
                    Schedule::of_notes(&exchange.notes, call.play_from_s(&exchange), start_s);
                self.playing = true;
                self.exchanges += 1;
                eprintln!(
                    "Answer {}: {:.1} s, {:.0} ms after the hand-over",
                    self.exchanges,
                    call.answer_s(),
                    (start_s - call.handed_over_s).max(0.0) * 1000.0
                );
                if let Some(keep) = &self.keep {
                    let path = keep.join(format!("exchange-{:03}.mid", self.exchanges));
                    exchange.write_midi(&path, Default::default())?;
                }
            }
        }
        Ok(())
    }

    fn stop_answer(&mut self) {
        self.answer = Schedule::default();
        self.playing = false;
        self.answering.forget();
    }
}

#[cfg(unix)]
fn virtual_out() -> Result<MidiOut> {
    Ok(MidiOut::virtual_port()?)
}

#[cfg(not(unix))]
fn virtual_out() -> Result<MidiOut> {
    bail!(
        "Windows has no virtual MIDI ports: install a loopback driver such as loopMIDI and pass its name to --out"
    )
}
