//! The curve lane under the piano roll, aligned with its time axis: density and loudness curves
//! drawn point by point, each point landing on a value the model can be asked for.

use cadenza_core::controls::{
    Curve, CurvePoint, Loudness, density_bin, density_of_bin, loudness_bin,
};
use egui::{Color32, Pos2, Rect, Sense, Stroke, Vec2};

use super::steering_controls::{LaneKind, LaneMode, SteerControls};
use crate::app::piano_roll::{KEYBOARD_WIDTH, PianoRoll};

/// Height of the curve lane under the piano roll, in points.
pub const CURVE_LANE_HEIGHT: f32 = 110.0;
/// Grab distance of a curve point, in pixels.
const GRAB_PX: f32 = 8.0;

/// How a lane maps values to heights: density on a log scale, loudness linearly.
fn value_range(kind: LaneKind) -> (f64, f64, bool) {
    match kind {
        LaneKind::Density => (0.5, 64.0, true),
        LaneKind::Loudness => (20.0, 120.0, false),
    }
}

/// Draws the curve lane under the piano roll, aligned with its time axis: click to add a point,
/// drag to move one, right-click to remove it.
pub fn curve_lane(ui: &mut egui::Ui, steer: &mut SteerControls, roll: &PianoRoll) {
    ui.horizontal(|ui| {
        ui.label("Curve:");
        for (kind, name, lane) in [
            (LaneKind::Density, "Density (notes/s)", &steer.density),
            (LaneKind::Loudness, "Loudness (velocity)", &steer.loudness),
        ] {
            if lane.mode == LaneMode::Curve {
                ui.selectable_value(&mut steer.editing, kind, name);
            }
        }
        ui.weak("click: add · drag: move · right-click: remove");
    });
    if steer.density.mode != LaneMode::Curve {
        steer.editing = LaneKind::Loudness;
    } else if steer.loudness.mode != LaneMode::Curve {
        steer.editing = LaneKind::Density;
    }
    let kind = steer.editing;
    let lane = match kind {
        LaneKind::Density => &mut steer.density,
        LaneKind::Loudness => &mut steer.loudness,
    };
    let (response, painter) = ui.allocate_painter(
        Vec2::new(ui.available_width(), CURVE_LANE_HEIGHT - 24.0),
        Sense::click_and_drag(),
    );
    let area = Rect::from_min_max(
        response.rect.min + Vec2::new(KEYBOARD_WIDTH, 4.0),
        response.rect.max - Vec2::new(0.0, 4.0),
    );
    let (low, high, log) = value_range(kind);
    let scale = LaneScale {
        area,
        start_s: roll.start_s,
        pixels_per_s: roll.pixels_per_s,
        low,
        high,
        log,
    };
    edit_curve(ui, &response, &scale, kind, &mut lane.curve);
    painter.rect_filled(response.rect, 0.0, ui.visuals().extreme_bg_color);
    let stroke = Stroke::new(2.0, Color32::from_rgb(90, 170, 250));
    let points: Vec<Pos2> = lane.curve.0.iter().map(|p| scale.pos(p)).collect();
    let mut line = points.clone();
    if let (Some(first), Some(last)) = (points.first(), points.last()) {
        line.insert(0, Pos2::new(area.left(), first.y));
        line.push(Pos2::new(area.right(), last.y));
    }
    painter.add(egui::Shape::line(line, stroke));
    for (point, value) in points.iter().zip(&lane.curve.0) {
        painter.circle_filled(*point, 4.0, stroke.color);
        painter.text(
            *point + Vec2::new(6.0, -4.0),
            egui::Align2::LEFT_BOTTOM,
            value_label(kind, value.value),
            egui::FontId::proportional(10.0),
            ui.visuals().text_color(),
        );
    }
    let label = |value: f64| match kind {
        LaneKind::Density => format!("{value:.1}/s"),
        LaneKind::Loudness => format!("{value:.0}"),
    };
    for value in [low, high] {
        painter.text(
            Pos2::new(response.rect.left() + 2.0, scale.y(value)),
            if value == low {
                egui::Align2::LEFT_BOTTOM
            } else {
                egui::Align2::LEFT_TOP
            },
            label(value),
            egui::FontId::proportional(10.0),
            ui.visuals().weak_text_color(),
        );
    }
}

/// Lane coordinates: time across (as the roll), value up.
struct LaneScale {
    area: Rect,
    start_s: f64,
    pixels_per_s: f32,
    low: f64,
    high: f64,
    log: bool,
}

impl LaneScale {
    fn norm(&self, value: f64) -> f64 {
        if self.log {
            (value.ln() - self.low.ln()) / (self.high.ln() - self.low.ln())
        } else {
            (value - self.low) / (self.high - self.low)
        }
    }

    fn y(&self, value: f64) -> f32 {
        self.area.bottom() - self.norm(value).clamp(0.0, 1.0) as f32 * self.area.height()
    }

    fn pos(&self, point: &CurvePoint) -> Pos2 {
        Pos2::new(
            self.area.left() + ((point.at_s - self.start_s) as f32) * self.pixels_per_s,
            self.y(point.value),
        )
    }

    fn point_at(&self, pos: Pos2) -> CurvePoint {
        let at_s =
            (self.start_s + f64::from((pos.x - self.area.left()) / self.pixels_per_s)).max(0.0);
        let fraction = f64::from((self.area.bottom() - pos.y) / self.area.height()).clamp(0.0, 1.0);
        let value = if self.log {
            (self.low.ln() + fraction * (self.high.ln() - self.low.ln())).exp()
        } else {
            self.low + fraction * (self.high - self.low)
        };
        CurvePoint { at_s, value }
    }
}

fn edit_curve(
    ui: &egui::Ui,
    response: &egui::Response,
    scale: &LaneScale,
    kind: LaneKind,
    curve: &mut Curve,
) {
    let nearest_to = |pos: Pos2, curve: &Curve| {
        curve
            .0
            .iter()
            .enumerate()
            .map(|(i, p)| (i, scale.pos(p).distance(pos)))
            .filter(|&(_, d)| d <= GRAB_PX)
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(i, _)| i)
    };
    if response.drag_started() {
        // The point under the press, not under the pointer a few pixels later.
        let origin = ui.input(|i| i.pointer.press_origin());
        if let Some(grabbed) = origin.and_then(|pos| nearest_to(pos, curve)) {
            ui.memory_mut(|m| m.data.insert_temp(response.id, grabbed));
        }
    }
    let Some(pointer) = response.interact_pointer_pos().or(response.hover_pos()) else {
        return;
    };
    let nearest = nearest_to(pointer, curve);
    if response.secondary_clicked() {
        if let Some(i) = nearest {
            curve.0.remove(i);
        }
    } else if response.dragged() {
        let grabbed = ui.memory(|m| m.data.get_temp::<usize>(response.id));
        if let Some(i) = grabbed.filter(|&i| i < curve.0.len()) {
            curve.0[i] = snapped(kind, scale.point_at(pointer));
        }
    } else if response.clicked() && nearest.is_none() {
        curve.0.push(snapped(kind, scale.point_at(pointer)));
    }
    if response.drag_stopped() {
        ui.memory_mut(|m| m.data.remove::<usize>(response.id));
    }
    if !response.dragged() {
        // Not while dragging: the grabbed point keeps its index until it is let go.
        curve.0.sort_by(|a, b| a.at_s.total_cmp(&b.at_s));
    }
}

/// A point's value moved to what the model can be asked for: a density bin's centre, or one of
/// the three loudness levels; its time to a tenth of a second.
fn snapped(kind: LaneKind, point: CurvePoint) -> CurvePoint {
    let value = match kind {
        LaneKind::Density => density_of_bin(density_bin(point.value)),
        LaneKind::Loudness => Loudness::ALL[usize::from(loudness_bin(point.value))].velocity(),
    };
    CurvePoint {
        at_s: (point.at_s * 10.0).round() / 10.0,
        value,
    }
}

/// A point's value as the lane labels it: "4/s", "soft".
fn value_label(kind: LaneKind, value: f64) -> String {
    match kind {
        LaneKind::Density => format!("{value}/s"),
        LaneKind::Loudness => Loudness::ALL[usize::from(loudness_bin(value))]
            .name()
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cadenza_core::controls::{CurvePoint, Loudness};

    #[test]
    fn a_dragged_curve_point_lands_on_a_value_the_model_can_be_asked_for() {
        let aimed = CurvePoint {
            at_s: 12.34,
            value: 1.353,
        };
        let density = snapped(LaneKind::Density, aimed);
        assert_eq!((density.at_s, density.value), (12.3, 1.0));
        assert_eq!(value_label(LaneKind::Density, density.value), "1/s");
        let loud = snapped(
            LaneKind::Loudness,
            CurvePoint {
                at_s: 0.0,
                value: 85.0,
            },
        );
        assert_eq!(loud.value, Loudness::Loud.velocity());
        assert_eq!(value_label(LaneKind::Loudness, loud.value), "loud");
    }
}
