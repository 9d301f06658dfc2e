//! What a composer asks of a take along its length: a key, density, loudness, tempo and meter,
//! and a style. This is also the format of `cadenza generate --controls FILE.json`.

use crate::music::controls::{
    ControlValues, ControlsMeta, Key, Loudness, density_bin, density_of_bin, loudness_bin,
};
use crate::music::form::Form;
use crate::music::meter::Grid;
use crate::music::meter_inputs::MeterValues;
use crate::music::time_signature::TimeSignature;

/// A value that changes along the piece: points `(at_s, value)`, linear in between, constant
/// before the first and after the last. No points means the control is absent ("any").
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Curve(pub Vec<CurvePoint>);

/// One point of a [`Curve`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CurvePoint {
    /// Seconds from the start of the take.
    pub at_s: f64,
    /// The value there.
    pub value: f64,
}

impl Curve {
    /// The same value all along.
    pub fn constant(value: f64) -> Self {
        Self(vec![CurvePoint { at_s: 0.0, value }])
    }

    /// The value at `t` seconds, if the curve has any point.
    pub fn at(&self, t: f64) -> Option<f64> {
        let points = &self.0;
        let first = points.first()?;
        let after = points.partition_point(|p| p.at_s <= t);
        Some(match (after, points.get(after)) {
            (0, _) => first.value,
            (_, None) => points[points.len() - 1].value,
            (i, Some(next)) => {
                let before = points[i - 1];
                let span = (next.at_s - before.at_s).max(1e-9);
                before.value + (next.value - before.value) * (t - before.at_s) / span
            }
        })
    }

    /// Whether the curve asks for anything.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn validate(&self, name: &str, range: std::ops::RangeInclusive<f64>) -> Result<(), String> {
        // Times first: a point before the start is wrong for its time, whatever its value.
        if let Some(bad) = self
            .0
            .iter()
            .find(|p| !(p.at_s.is_finite() && p.at_s >= 0.0))
        {
            return Err(format!(
                "{name}: the point at {} s is before the start (times are 0 or more seconds)",
                bad.at_s
            ));
        }
        for pair in self.0.windows(2) {
            if pair[1].at_s < pair[0].at_s {
                return Err(format!("{name}: the points must be in time order"));
            }
        }
        match self.0.iter().find(|p| !range.contains(&p.value)) {
            Some(bad) => Err(format!(
                "{name}: the point at {} s has value {}, outside {}–{}",
                bad.at_s,
                bad.value,
                range.start(),
                range.end()
            )),
            None => Ok(()),
        }
    }
}

/// From `at_s` on, ask for `key` (`None`: any key).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct KeyChange {
    /// Seconds from the start of the take.
    pub at_s: f64,
    /// The key from then on; `null` in JSON for "any".
    pub key: Option<Key>,
}

/// What to ask the model for along a take; every part optional. This is also the format of
/// `cadenza generate --controls FILE.json`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ControlPlan {
    /// Key changes in time order; before the first, any key.
    pub key: Vec<KeyChange>,
    /// Notes per second.
    pub density: Curve,
    /// Mean velocity (soft ≈ 45, medium ≈ 67, loud ≈ 92).
    pub loudness: Curve,
    /// A style the model knows (a composer of its corpus); `None`: any.
    pub style: Option<String>,
    /// Beats per minute along the take (a ritardando is a falling curve). With no points and no
    /// meter the take has no bar grid (for a model from before the grid, the only choice).
    pub tempo: Curve,
    /// Time signature changes in time order; each takes effect at the first bar line at or
    /// after its time.
    pub meter: Vec<MeterChange>,
    /// Sections of bars from the start of the new music, a letter used again repeating its
    /// section ("A4 B4 A4"); implies a bar grid.
    pub form: Option<Form>,
    /// How much a repeated section changes: 0 the same notes, 1 every bar written anew over
    /// the same bars ([`DEFAULT_VARIATION`] when not given).
    pub variation: Option<f64>,
}

/// The share of a repeat's bars written anew when no variation is asked.
pub const DEFAULT_VARIATION: f64 = 0.3;

/// From the first bar line at or after `at_s` on, bars of `signature`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MeterChange {
    /// Seconds from the start of the take.
    pub at_s: f64,
    /// The time signature from then on.
    pub signature: TimeSignature,
}

/// Tempos a take may ask for, in beats per minute.
pub const REQUESTABLE_TEMPO_BPM: std::ops::RangeInclusive<f64> = 20.0..=300.0;

/// Values one after another, repeats run together, with their unit once: "2 then 8 notes/s".
fn joined(values: impl Iterator<Item = String>, unit: &str) -> String {
    let mut values: Vec<String> = values.collect();
    values.dedup();
    format!("{}{unit}", values.join(" then "))
}

/// Refuses change times before the start or out of order, naming the control.
fn check_change_times(name: &str, times: impl Iterator<Item = f64>) -> Result<(), String> {
    let mut previous = 0.0;
    for at_s in times {
        if !(at_s.is_finite() && at_s >= 0.0) {
            return Err(format!(
                "{name}: the change at {at_s} s is before the start (times are 0 or more seconds)"
            ));
        }
        if at_s < previous {
            return Err(format!("{name}: the changes must be in time order"));
        }
        previous = at_s;
    }
    Ok(())
}

/// The tempo of a grid asked for without one, and of a take in bars by default (the app's first
/// take and `cadenza generate`), in beats per minute: a walking tempo, near the corpus's median.
pub const DEFAULT_TEMPO_BPM: f64 = 90.0;
/// The meter of a grid asked for without one, and of a take in bars by default.
pub const DEFAULT_METER: TimeSignature = TimeSignature::FOUR_FOUR;

impl ControlPlan {
    /// Whether the plan asks for nothing.
    pub fn is_any(&self) -> bool {
        self.key.iter().all(|change| change.key.is_none())
            && self.density.is_empty()
            && self.loudness.is_empty()
            && self.style.is_none()
            && !self.asks_meter()
    }

    /// The plan in bars, at [`DEFAULT_TEMPO_BPM`] in [`DEFAULT_METER`], where it asks no tempo,
    /// meter or form of its own: what a take is by default, in the app and on the command line.
    pub fn in_default_bars(mut self) -> Self {
        if !self.asks_meter() {
            self.tempo = Curve::constant(DEFAULT_TEMPO_BPM);
            self.meter = vec![MeterChange {
                at_s: 0.0,
                signature: DEFAULT_METER,
            }];
        }
        self
    }

    /// Whether the plan asks for a tempo or a meter, so the take has a bar grid.
    pub fn asks_meter(&self) -> bool {
        !self.tempo.is_empty() || !self.meter.is_empty() || self.form.is_some()
    }

    /// The share of a repeat's bars written anew.
    pub fn variation(&self) -> f64 {
        self.variation.unwrap_or(DEFAULT_VARIATION)
    }

    /// The bar grid the plan asks for, laid out to at least `until_s`; `None` if it asks for
    /// neither tempo nor meter.
    pub fn grid(&self, until_s: f64) -> Option<Grid> {
        if !self.asks_meter() {
            return None;
        }
        let signature_at = |t: f64| {
            self.meter
                .iter()
                .take_while(|change| change.at_s <= t + 1e-9)
                .last()
                .map_or(DEFAULT_METER, |change| change.signature)
        };
        let tempo = |t: f64| self.tempo.at(t).unwrap_or(DEFAULT_TEMPO_BPM);
        Some(Grid::planned(tempo, signature_at, until_s))
    }

    /// The plan without what a model reading `meta` was never taught: tempo, meter and form
    /// for a model from before the bar grid (the panel greys those rows, and keeps their values
    /// for the next model).
    pub fn within(mut self, meta: &ControlsMeta) -> Self {
        if !meta.reads_meter() {
            self.tempo = Curve::default();
            self.meter.clear();
            self.form = None;
        }
        self
    }

    /// Where the form ends on the plan's grid when it begins at the first bar line from
    /// `from_s` (a primer's end): the length a form sets. `None` without a form.
    pub fn form_end_s(&self, from_s: f64) -> Option<f64> {
        let form = self.form.as_ref()?;
        let grid = self.grid(from_s + 1.0)?;
        form.on_grid(&grid, from_s).last().map(|last| last.end_s)
    }

    /// Checks times and ranges.
    pub fn validate(&self) -> Result<(), String> {
        self.density.validate("density", 0.0..=200.0)?;
        self.loudness.validate("loudness", 1.0..=127.0)?;
        self.tempo.validate("tempo", REQUESTABLE_TEMPO_BPM)?;
        check_change_times("key", self.key.iter().map(|c| c.at_s))?;
        check_change_times("meter", self.meter.iter().map(|c| c.at_s))?;
        match self.variation {
            Some(v) if !(0.0..=1.0).contains(&v) => {
                Err(format!("variation: {v} is not between 0 and 1"))
            }
            _ => Ok(()),
        }
    }

    /// Checks the plan against what the model `meta` describes knows (its styles).
    pub fn check_against(&self, meta: &ControlsMeta) -> Result<(), String> {
        self.validate()?;
        match &self.style {
            Some(style) if meta.style_index(style).is_none() => Err(format!(
                "style {style:?} is not one this model knows ({})",
                if meta.styles.is_empty() {
                    "it knows none".to_string()
                } else {
                    meta.styles.join(", ")
                }
            )),
            _ => Ok(()),
        }
    }

    /// The controls asked for at `t` seconds of a model `meta` describes, with the place on
    /// `grid` for a model that reads it, and the style row.
    pub fn values_at(
        &self,
        meta: &ControlsMeta,
        grid: Option<&Grid>,
        t: f64,
    ) -> (ControlValues, usize) {
        let values = ControlValues {
            meter: grid
                .filter(|_| meta.reads_meter())
                .map(|grid| MeterValues::at(grid, t)),
            density: self.density.at(t).map(density_bin),
            histogram: self
                .key_at(t)
                .map(|key| meta.key_profiles.histogram(key).map(|v| v as f32)),
            loudness: self.loudness.at(t).map(loudness_bin),
            // What was played before `t` is the sampler's to look back over, not the plan's.
            lookback: None,
        };
        let style = self
            .style
            .as_deref()
            .and_then(|s| meta.style_index(s))
            .unwrap_or(0);
        (values, style)
    }

    /// The key asked for at `t` seconds.
    pub fn key_at(&self, t: f64) -> Option<Key> {
        self.key
            .iter()
            .take_while(|change| change.at_s <= t)
            .last()
            .and_then(|change| change.key)
    }

    /// A short description for take lists, in a musician's words: "D minor · 2 then 8 notes/s ·
    /// soft · 90 bpm · 3/4 · Chopin", or "any". Densities are named by the bin they ask for.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if self.key.iter().any(|c| c.key.is_some()) {
            let keys = self
                .key
                .iter()
                .map(|c| c.key.map_or("any key".to_string(), |k| k.to_string()));
            parts.push(joined(keys, ""));
        }
        let values = |curve: &Curve, unit: &str, name: &dyn Fn(f64) -> String| {
            joined(curve.0.iter().map(|p| name(p.value)), unit)
        };
        if !self.density.is_empty() {
            let bin = |v: f64| density_of_bin(density_bin(v));
            let singular = self.density.0.iter().all(|p| bin(p.value) <= 1.0);
            let unit = if singular { " note/s" } else { " notes/s" };
            parts.push(values(&self.density, unit, &|v| bin(v).to_string()));
        }
        if !self.loudness.is_empty() {
            let level = |v: f64| {
                Loudness::ALL[usize::from(loudness_bin(v))]
                    .name()
                    .to_string()
            };
            parts.push(values(&self.loudness, "", &level));
        }
        if !self.tempo.is_empty() {
            parts.push(values(&self.tempo, " bpm", &|v| format!("{v:.0}")));
        }
        if !self.meter.is_empty() {
            let signatures = self.meter.iter().map(|c| c.signature.to_string());
            parts.push(joined(signatures, ""));
        }
        if let Some(form) = &self.form {
            parts.push(format!("form {form}"));
        }
        if let Some(style) = &self.style {
            parts.push(style.clone());
        }
        if parts.is_empty() {
            "any".to_string()
        } else {
            parts.join(" · ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_for_a_model_from_before_the_grid_leaves_out_tempo_meter_and_form() {
        use crate::music::controls::{CONTROL_INPUTS, KeyProfiles};
        let plan = ControlPlan {
            tempo: Curve::constant(90.0),
            form: Some("A2 B2".parse().expect("form")),
            ..ControlPlan::default()
        };
        let new = ControlsMeta::new(Vec::new(), KeyProfiles::default());
        let old = ControlsMeta {
            inputs: CONTROL_INPUTS,
            ..new.clone()
        };
        assert_eq!(plan.clone().within(&new), plan);
        let within = plan.within(&old);
        assert!(!within.asks_meter() && within.form.is_none());
    }

    #[test]
    fn a_form_sets_the_length_in_bars_at_the_tempo_asked() {
        let mut plan = ControlPlan {
            form: Some("A4 B4 A4".parse().expect("form")),
            ..ControlPlan::default()
        };
        // Twelve bars of 4/4 at the default 90 bpm: 48 beats of 2/3 s.
        assert!((plan.form_end_s(0.0).expect("a form") - 32.0).abs() < 1e-9);
        plan.tempo = Curve::constant(120.0);
        // After a 3-s primer the form starts at the next bar line, 4 s.
        assert!((plan.form_end_s(3.0).expect("a form") - 28.0).abs() < 1e-9);
        plan.form = None;
        assert_eq!(plan.form_end_s(0.0), None);
    }

    #[test]
    fn curves_interpolate_and_hold() {
        let curve = Curve(vec![
            CurvePoint {
                at_s: 10.0,
                value: 2.0,
            },
            CurvePoint {
                at_s: 20.0,
                value: 8.0,
            },
        ]);
        assert_eq!(curve.at(0.0), Some(2.0));
        assert_eq!(curve.at(15.0), Some(5.0));
        assert_eq!(curve.at(99.0), Some(8.0));
        assert_eq!(Curve::default().at(1.0), None);
    }
}
