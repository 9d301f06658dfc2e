//! The assist: the sampler's hand-set rules, which lean the network's choices toward keeping
//! time, phrasing, the corpus's texture, letting go of held notes and the key a take settled in.
//! Every strength lives here, with its defaults; the composer chooses none, light or strong (or
//! each rule's strength), every path that samples applies the same assist, after the temperature
//! (so "5 nats" is 5 nats at any temperature), and each take records the one it was made with.

use std::fmt;
use std::str::FromStr;

use crate::music::encoding::Decoder;
use crate::music::lookback::Played;
use crate::music::meter::Grid;

use super::keep_time::Moment;
use super::{echo, release, texture};

/// The strongest a rule may lean, in nats (a choice made 5·10^8 times likelier or less): past
/// it the rule decides alone.
pub const MAX_ASSIST_NATS: f32 = 20.0;

/// How strongly each rule leans, in nats added to or taken from the logits (after temperature).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Assist {
    /// Keep time (a take on a bar grid): nats taken from a strike off the grid, and from a time
    /// shift that lands off it or lets a downbeat pass unplayed.
    pub keep_time: f32,
    /// Phrase (on a bar grid): nats added, in each four-bar phrase's second half, to what was
    /// played two bars back; a third of it is taken from every other strike.
    pub echo: f32,
    /// Texture: nats taken from a strike per key down beyond six.
    pub texture: f32,
    /// Let go: nats added to a held key's release per second held beyond two.
    pub release: f32,
    /// Where no key is asked, steer the take by the key it settled in.
    pub settle_key: bool,
}

impl Assist {
    /// The network alone: no rule.
    pub const NONE: Self = Self {
        keep_time: 0.0,
        echo: 0.0,
        texture: 0.0,
        release: 0.0,
        settle_key: false,
    };
    /// The strengths chosen by listening and by the realism and meter benches (keep time 5: an
    /// off-grid choice 148 times less likely; echo 9: a take's patterns recur 0.39 against 0.01
    /// alone; texture 1 per key beyond six; release 6 per s beyond 2 s).
    pub const STRONG: Self = Self {
        keep_time: 5.0,
        echo: 9.0,
        texture: 1.0,
        release: 6.0,
        settle_key: true,
    };
    /// Half of [`Assist::STRONG`]'s strengths, the key still settled.
    pub const LIGHT: Self = Self {
        keep_time: 2.5,
        echo: 4.5,
        texture: 0.5,
        release: 3.0,
        settle_key: true,
    };

    /// Checks every strength is a number from 0 to [`MAX_ASSIST_NATS`], explaining the first
    /// that is not.
    pub fn validate(&self) -> Result<(), String> {
        let strengths = [
            ("keep time", self.keep_time),
            ("echo", self.echo),
            ("texture", self.texture),
            ("release", self.release),
        ];
        match strengths
            .into_iter()
            .find(|(_, nats)| !(0.0..=MAX_ASSIST_NATS).contains(nats))
        {
            Some((rule, nats)) => Err(format!(
                "the assist's {rule} strength must be from 0 to {MAX_ASSIST_NATS} nats, not {nats}"
            )),
            None => Ok(()),
        }
    }

    /// Whether no rule acts: the network alone.
    pub fn is_none(&self) -> bool {
        *self == Self::NONE
    }

    /// Leans `logits` (already divided by the temperature) toward the rules, for a voice that
    /// has played `played` (decoded in `decoder`) on `grid`, if any; `struck_here` says whether it
    /// struck a note at this moment.
    pub(crate) fn lean(
        &self,
        logits: &mut [f32],
        grid: Option<&Grid>,
        decoder: &Decoder,
        played: &Played,
        struck_here: bool,
    ) {
        if let Some(grid) = grid {
            if self.keep_time != 0.0 {
                Moment::at(grid, decoder.now_s(), struck_here).nudge(grid, logits, self.keep_time);
            }
            if self.echo != 0.0 {
                echo::nudge(grid, played, logits, self.echo);
            }
        }
        if self.texture != 0.0 {
            texture::nudge(played, logits, self.texture);
        }
        if self.release != 0.0 {
            release::nudge(decoder, logits, self.release);
        }
    }
}

impl Default for Assist {
    fn default() -> Self {
        Self::STRONG
    }
}

/// The assist as offered in the app and by `--assist`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssistLevel {
    /// No rule: the network alone.
    None,
    /// Every rule at half strength.
    Light,
    /// Every rule at the strengths chosen (the default).
    #[default]
    Strong,
}

impl AssistLevel {
    /// Every level, weakest first.
    pub const ALL: [Self; 3] = [Self::None, Self::Light, Self::Strong];

    /// The strengths of this level.
    pub fn assist(self) -> Assist {
        match self {
            Self::None => Assist::NONE,
            Self::Light => Assist::LIGHT,
            Self::Strong => Assist::STRONG,
        }
    }
}

impl fmt::Display for AssistLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::None => "none",
            Self::Light => "light",
            Self::Strong => "strong",
        })
    }
}

impl FromStr for AssistLevel {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|level| level.to_string() == text.trim().to_lowercase())
            .ok_or_else(|| {
                let names: Vec<String> = Self::ALL.iter().map(ToString::to_string).collect();
                format!("{text:?} is not an assist: {}", names.join(", "))
            })
    }
}

impl fmt::Display for Assist {
    /// "strong", "light", "none", or each rule's strength for another mix.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(level) = AssistLevel::ALL.into_iter().find(|l| l.assist() == *self) {
            return write!(f, "{level}");
        }
        write!(
            f,
            "keep time {} · echo {} · texture {} · release {} · key {}",
            self.keep_time,
            self.echo,
            self.texture,
            self.release,
            if self.settle_key { "settled" } else { "free" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::music::encoding::{Event, EventId, MAX_SHIFT_STEPS, VOCAB_SIZE, to_step};
    use crate::music::time_signature::TimeSignature;

    /// A voice at `until_s` on a 120-bpm 4/4 grid (a bar is 2 s) that struck C at 0.5 s and
    /// released it at 0.9 s, then struck seven keys at 4.0 s and holds them: at 6.55 s the keys
    /// are held past 2 s, seven are down, the time is off the grid and bar 3 answers bar 1.
    fn voice_at(until_s: f64) -> (Grid, Decoder, Played) {
        let grid = Grid::steady(120.0, TimeSignature::FOUR_FOUR, 20.0);
        let mut events: Vec<EventId> = Vec::new();
        let mut now_s = 0.0;
        let mut wait_until = |events: &mut Vec<EventId>, at_s: f64| {
            while now_s < at_s - 1e-9 {
                let steps = to_step(at_s - now_s).min(u64::from(MAX_SHIFT_STEPS));
                events.push(Event::TimeShift(steps as u8).id());
                now_s += steps as f64 * 0.01;
            }
        };
        wait_until(&mut events, 0.5);
        events.push(Event::NoteOn(60).id());
        wait_until(&mut events, 0.9);
        events.push(Event::NoteOff(60).id());
        wait_until(&mut events, 4.0);
        for pitch in 40..47 {
            events.push(Event::NoteOn(pitch).id());
        }
        wait_until(&mut events, until_s);
        let mut decoder = Decoder::default();
        for &event in &events {
            decoder.push(event);
        }
        (grid, decoder, Played::of_events(&events))
    }

    fn leaned(assist: Assist, until_s: f64) -> Vec<f32> {
        let (grid, decoder, played) = voice_at(until_s);
        let mut logits = vec![0.0; VOCAB_SIZE];
        assist.lean(&mut logits, Some(&grid), &decoder, &played, false);
        logits
    }

    /// The assist with only `rule` of the strong one.
    fn only(rule: fn(&mut Assist, &Assist)) -> Assist {
        let mut assist = Assist::NONE;
        rule(&mut assist, &Assist::STRONG);
        assist
    }

    #[test]
    fn the_network_alone_is_left_untouched_where_every_rule_would_act() {
        for until_s in [4.55, 6.55] {
            let logits = leaned(Assist::NONE, until_s);
            assert!(logits.iter().all(|&l| l == 0.0), "at {until_s} s");
        }
        assert!(leaned(Assist::STRONG, 6.55).iter().any(|&l| l != 0.0));
    }

    #[test]
    fn each_rule_acts_through_its_own_strength_alone() {
        let strike = |pitch: u8| usize::from(Event::NoteOn(pitch).id());
        let release = |pitch: u8| usize::from(Event::NoteOff(pitch).id());
        // Keep time: at 6.55 s (off the grid) every strike is made less likely.
        let keep_time = leaned(only(|a, s| a.keep_time = s.keep_time), 6.55);
        assert_eq!(keep_time[strike(72)], -Assist::STRONG.keep_time);
        // Echo: at 4.5 s bar 3 answers bar 1, whose C sounded at 0.5 s (its dynamics first).
        let echo = leaned(only(|a, s| a.echo = s.echo), 4.5);
        assert!(echo.contains(&Assist::STRONG.echo), "something echoed");
        let other = -Assist::STRONG.echo * echo::OTHER_NOTE_SHARE;
        assert_eq!(echo[strike(62)], other, "another note made less likely");
        // Texture: seven keys down, one beyond the six free.
        let texture = leaned(only(|a, s| a.texture = s.texture), 6.55);
        assert_eq!(texture[strike(72)], -Assist::STRONG.texture);
        // Release: the keys struck at 4 s have been held 2.55 s, 0.55 s beyond the free 2.
        let let_go = leaned(only(|a, s| a.release = s.release), 6.55);
        assert!((let_go[release(40)] - Assist::STRONG.release * 0.55).abs() < 1e-4);
        for (name, logits) in [
            ("keep time", &keep_time),
            ("echo", &echo),
            ("texture", &texture),
        ] {
            assert_eq!(logits[release(40)], 0.0, "{name} leaves releases alone");
        }
        assert_eq!(let_go[strike(72)], 0.0, "release leaves strikes alone");
    }

    #[test]
    fn assists_read_and_print_by_name_and_refuse_impossible_strengths() {
        for level in AssistLevel::ALL {
            assert_eq!(level.to_string().parse::<AssistLevel>(), Ok(level));
            assert_eq!(level.assist().to_string(), level.to_string());
        }
        assert!("loud".parse::<AssistLevel>().is_err());
        let custom = only(|a, s| a.echo = s.echo);
        assert!(custom.to_string().contains("echo 9"), "{custom}");
        let too_strong = Assist {
            keep_time: 50.0,
            ..Assist::STRONG
        };
        let refusal = too_strong.validate().expect_err("refused");
        assert!(refusal.contains("keep time"), "{refusal}");
        assert!(Assist::STRONG.validate().is_ok());
    }
}
