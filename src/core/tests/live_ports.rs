//! Real MIDI ports, through a JACK server (CI runs `jackd -d dummy`, which needs no sound card):
//! a phrase sent into Cadenza's input arrives complete, in order and on time, and a take played
//! to Cadenza's output leaves nothing sounding after Stop. Built only with the `jack` feature
//! (`cargo test -p cadenza-core --features jack --test live_ports`), which `.ci/run` runs with a
//! server started.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cadenza_core::live::{LiveClock, MidiKeyboard, MidiOut, Recording, find_port, input_ports};
use cadenza_core::music::touch::{Played, Touch};
use midly::num::u7;

/// The dummy server's period: 256 frames at 48 kHz.
const JACK_PERIOD_S: f64 = 256.0 / 48_000.0;
/// What the test allows beyond a period for scheduling on a loaded two-core machine.
const SLACK_S: f64 = 0.005;

fn require_server() {
    if input_ports().is_err() {
        panic!(
            "no JACK server: start one with `jackd --no-realtime -d dummy -r 48000 -p 256 &` \
             (.ci/run does)"
        );
    }
}

fn wait_for_port(name: &str) -> cadenza_core::live::PortName {
    let started = Instant::now();
    loop {
        let ports = input_ports().expect("the server is up");
        if let Ok(port) = find_port(&ports, name) {
            return port.clone();
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{name} never appeared: {ports:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_phrase_sent_into_cadenzas_input_is_recorded_complete_in_order_and_on_time() {
    require_server();
    use midir::os::unix::VirtualOutput;
    let sender = midir::MidiOutput::new("phrase-player").expect("client");
    let mut sender = sender.create_virtual("phrase").expect("virtual output");
    let port = wait_for_port("phrase");
    let clock = LiveClock::start();
    let arrived: Arc<Mutex<Vec<Played>>> = Arc::default();
    let arrivals = Arc::clone(&arrived);
    let _keyboard = MidiKeyboard::connect(&port, clock, move |played| {
        arrivals.lock().expect("not poisoned").push(played);
    })
    .expect("connects");
    std::thread::sleep(Duration::from_millis(200));
    let mut sent = Vec::new();
    for (i, key) in [60u8, 64, 67, 72, 67, 64, 60, 55].into_iter().enumerate() {
        for touch in [
            Touch::strike(u7::new(key), u7::new(40 + 10 * i as u8)),
            Touch::Release { key: u7::new(key) },
        ] {
            std::thread::sleep(Duration::from_millis(60));
            let at_s = clock.now_s();
            sender.send(&touch.to_midi()).expect("sent");
            sent.push(Played { at_s, touch });
        }
    }
    std::thread::sleep(Duration::from_millis(200));
    let arrived = arrived.lock().expect("not poisoned").clone();
    let touches = |played: &[Played]| played.iter().map(|p| p.touch).collect::<Vec<_>>();
    assert_eq!(touches(&arrived), touches(&sent), "complete and in order");
    let lateness_s: Vec<f64> = arrived
        .iter()
        .zip(&sent)
        .map(|(a, s)| a.at_s - s.at_s)
        .collect();
    let worst_s = lateness_s.iter().copied().fold(0.0, f64::max);
    println!(
        "JACK input: worst arrival {:.2} ms after sending",
        worst_s * 1000.0
    );
    assert!(worst_s <= JACK_PERIOD_S + SLACK_S, "{lateness_s:?}");
    let mut recording = Recording::new(sent[0].at_s);
    arrived.iter().for_each(|played| recording.add(*played));
    assert_eq!(recording.piece(clock.now_s()).notes.len(), 8);
}

#[test]
fn a_take_played_to_cadenzas_output_arrives_with_every_note_off_after_stop() {
    require_server();
    let mut out = MidiOut::virtual_port().expect("Cadenza's virtual output");
    let port = wait_for_port(cadenza_core::live::CLIENT_NAME);
    let received: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let receiving = Arc::clone(&received);
    let listener = midir::MidiInput::new("daw").expect("client");
    let found = listener.find_port_by_id(&port.id).expect("port");
    let _connection = listener
        .connect(
            &found,
            "daw in",
            move |_, bytes, ()| receiving.lock().expect("not poisoned").push(bytes.to_vec()),
            (),
        )
        .expect("the DAW connects");
    std::thread::sleep(Duration::from_millis(200));
    out.send(Touch::Pedal { down: true }).expect("sent");
    for key in [48u8, 55, 60, 64] {
        out.send(Touch::strike(u7::new(key), u7::new(90)))
            .expect("sent");
    }
    out.send(Touch::Release { key: u7::new(55) }).expect("sent");
    // Stop, with three keys and the pedal still down.
    out.silence().expect("silenced");
    std::thread::sleep(Duration::from_millis(200));
    let received = received.lock().expect("not poisoned").clone();
    let mut down = std::collections::BTreeSet::new();
    let mut pedal = false;
    for bytes in &received {
        match Touch::from_midi(bytes) {
            Some(Touch::Strike { key, .. }) => {
                down.insert(key.as_int());
            }
            Some(Touch::Release { key }) => {
                down.remove(&key.as_int());
            }
            Some(Touch::Pedal { down: is_down }) => pedal = is_down,
            None => {}
        }
    }
    assert!(
        down.is_empty() && !pedal,
        "left sounding: {down:?}, pedal {pedal}"
    );
    assert_eq!(
        received.last().map(Vec::as_slice),
        Some(&[0xB0, 123, 0][..])
    );
}
