//! The piano roll: keys down the left, a time ruler along the top, a sustain-pedal lane at the
//! bottom, notes as bars coloured by velocity (primer notes in grey-blue), a playhead, zoom and pan.
//! Only the notes in view are drawn: notes are sorted by onset, so the visible range is found by
//! binary search (with a bound on note length for notes that start before the view). The keys shown
//! fit the notes' range with a margin (the full keyboard is one click away); dragging on the ruler
//! (or shift-dragging in the roll) selects a passage, snapped to onsets when close.

use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Stroke, Vec2};

use cadenza_core::midi::{Note, PedalInterval, Piece};
use cadenza_core::music::form::SectionTime;
use cadenza_core::music::meter::Grid;
use cadenza_core::regenerate::Passage;

use super::format::format_time;

/// Width of the keyboard at the roll's left: lanes under the roll start after it.
pub const KEYBOARD_WIDTH: f32 = 34.0;
const RULER_HEIGHT: f32 = 18.0;
const PEDAL_HEIGHT: f32 = 10.0;
/// The piano's lowest and highest keys.
const LOWEST: u8 = 21;
const HIGHEST: u8 = 108;
/// Keys shown beyond the notes' range, and the fewest keys shown.
const KEY_MARGIN: u8 = 3;
const MIN_KEYS: u8 = 25;
/// A selection edge within this many pixels of an onset snaps to it.
const SNAP_PX: f32 = 6.0;
/// Beat lines are drawn when beats are at least this many pixels apart.
const MIN_BEAT_PX: f32 = 8.0;

/// What the roll shows: a piece's notes (sorted by onset) and pedal.
#[derive(Debug, Clone, Default)]
pub struct RollContent {
    /// Notes sorted by onset.
    pub notes: Vec<Note>,
    /// Sustain-pedal intervals.
    pub pedal: Vec<PedalInterval>,
    /// Notes starting before this are the primer's.
    pub primer_end_s: f64,
    /// The longest note, to find notes that started before the view but still sound in it.
    longest_s: f64,
    /// The last release (kept, as the transport shows it every frame).
    end_s: f64,
    /// Lowest and highest pitch, if any note.
    pitch_range: Option<(u8, u8)>,
    /// The bar grid, if the piece has one: bars and beats on the ruler, selections snap to beats.
    pub grid: Option<Grid>,
    /// The sections of a take written to a form, drawn in a lane at the top of the roll.
    pub sections: Vec<SectionTime>,
}

impl RollContent {
    /// Content for a piece; sorts nothing (notes must already be sorted by onset).
    pub fn new(notes: Vec<Note>, pedal: Vec<PedalInterval>, primer_end_s: f64) -> Self {
        let longest_s = notes.iter().map(Note::duration_s).fold(0.0, f64::max);
        let end_s = notes.iter().map(|n| n.end_s).fold(0.0, f64::max);
        let mut content = Self {
            notes: Vec::new(),
            pedal,
            primer_end_s,
            longest_s,
            end_s,
            pitch_range: None,
            grid: None,
            sections: Vec::new(),
        };
        for note in &notes {
            content.widen_pitch_range(note.pitch);
        }
        content.notes = notes;
        content
    }

    fn widen_pitch_range(&mut self, pitch: u8) {
        self.pitch_range = Some(match self.pitch_range {
            Some((low, high)) => (low.min(pitch), high.max(pitch)),
            None => (pitch, pitch),
        });
    }

    /// Adds notes (streamed from the generator) keeping the onset order.
    pub fn add_notes(&mut self, new: &[Note]) {
        for note in new {
            let at = self.notes.partition_point(|n| n.start_s <= note.start_s);
            self.notes.insert(at, *note);
            self.longest_s = self.longest_s.max(note.duration_s());
            self.end_s = self.end_s.max(note.end_s);
            self.widen_pitch_range(note.pitch);
        }
    }

    /// The same content on `grid`.
    pub fn with_grid(self, grid: Option<Grid>) -> Self {
        Self { grid, ..self }
    }

    /// The notes and pedal as a piece (to play or prime with), with its grid.
    pub fn piece(&self) -> Piece {
        Piece {
            notes: self.notes.clone(),
            pedal: self.pedal.clone(),
            grid: self.grid.clone(),
        }
    }

    /// Time of the last release.
    pub fn end_s(&self) -> f64 {
        self.end_s
    }

    /// Indices of the notes that may be visible between `from_s` and `to_s`.
    pub fn visible_range(&self, from_s: f64, to_s: f64) -> std::ops::Range<usize> {
        let first = self
            .notes
            .partition_point(|n| n.start_s < from_s - self.longest_s);
        let last = self.notes.partition_point(|n| n.start_s <= to_s);
        first..last.max(first)
    }
}

/// The view: which seconds and keys are visible; kept between frames.
#[derive(Debug, Clone)]
pub struct PianoRoll {
    /// Left edge of the view, in seconds.
    pub start_s: f64,
    /// Zoom, in pixels per second.
    pub pixels_per_s: f32,
    /// Keep the playhead in view while playing.
    pub follow: bool,
    /// Show all 88 keys instead of the notes' range.
    pub full_keyboard: bool,
    /// Keys shown this frame.
    lowest: u8,
    highest: u8,
    /// Where a selection drag began, in seconds.
    selecting_from: Option<f64>,
    /// Fit the whole piece in the view at the next frame.
    fit_requested: bool,
}

impl Default for PianoRoll {
    fn default() -> Self {
        Self {
            start_s: 0.0,
            pixels_per_s: 80.0,
            follow: true,
            full_keyboard: false,
            lowest: LOWEST,
            highest: HIGHEST,
            selecting_from: None,
            fit_requested: false,
        }
    }
}

/// What the user did in the roll this frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RollAction {
    /// Clicked the ruler: play from here.
    Seek(f64),
}

/// The keys to show for notes spanning `range`: the range with a margin, at least [`MIN_KEYS`]
/// keys, inside the piano; the whole piano for no notes.
pub fn fitted_keys(range: Option<(u8, u8)>) -> (u8, u8) {
    let Some((low, high)) = range else {
        return (LOWEST, HIGHEST);
    };
    let mut low = low.saturating_sub(KEY_MARGIN).max(LOWEST);
    let mut high = high.saturating_add(KEY_MARGIN).min(HIGHEST);
    while high - low + 1 < MIN_KEYS {
        low = low.saturating_sub(1).max(LOWEST);
        high = (high + 1).min(HIGHEST);
        if low == LOWEST && high == HIGHEST {
            break;
        }
    }
    (low, high)
}

impl PianoRoll {
    /// Most and fewest pixels per second the view zooms to.
    pub const ZOOM_RANGE: (f32, f32) = (2.0, 2000.0);

    /// Zooms by `factor` about the middle of the view (`width_px` wide).
    pub fn zoom_by(&mut self, factor: f32, width_px: f32) {
        let middle_s = self.start_s + f64::from(width_px / 2.0 / self.pixels_per_s);
        self.pixels_per_s =
            (self.pixels_per_s * factor).clamp(Self::ZOOM_RANGE.0, Self::ZOOM_RANGE.1);
        self.start_s = (middle_s - f64::from(width_px / 2.0 / self.pixels_per_s)).max(0.0);
    }

    /// Shows the whole piece at the next frame.
    pub fn fit(&mut self) {
        self.fit_requested = true;
    }

    /// Opens a new piece at its start, or at `selection` if there is one.
    pub fn reset_view(&mut self, selection: Option<Passage>) {
        self.start_s = selection.map_or(0.0, |s| (s.start_s - 1.0).max(0.0));
        self.selecting_from = None;
    }

    /// Draws the roll filling `ui`; `playhead_s` is the playback position (if any). `selection`
    /// is drawn as a shaded band and changed by dragging on the ruler or shift-dragging.
    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        content: &RollContent,
        playhead_s: Option<f64>,
        playing: bool,
        selection: &mut Option<Passage>,
    ) -> Option<RollAction> {
        (self.lowest, self.highest) = if self.full_keyboard {
            (LOWEST, HIGHEST)
        } else {
            fitted_keys(content.pitch_range)
        };
        let (response, painter) = ui.allocate_painter(ui.available_size(), Sense::click_and_drag());
        let full = response.rect;
        let area = Rect::from_min_max(
            full.min + Vec2::new(KEYBOARD_WIDTH, RULER_HEIGHT),
            full.max - Vec2::new(0.0, PEDAL_HEIGHT),
        );
        if std::mem::take(&mut self.fit_requested) && content.end_s() > 0.0 {
            self.start_s = 0.0;
            self.pixels_per_s = (area.width() / content.end_s() as f32)
                .clamp(Self::ZOOM_RANGE.0, Self::ZOOM_RANGE.1);
        }
        let action = self.handle_input(ui, &response, area, full, content, selection);
        if let (Some(t), true, true) = (playhead_s, playing, self.follow) {
            let visible_s = f64::from(area.width() / self.pixels_per_s);
            if t < self.start_s || t > self.start_s + visible_s * 0.9 {
                // Never past the end: the last page keeps the music's end in view, not silence.
                let last_page_s = (content.end_s() - visible_s * 0.9).max(0.0);
                self.start_s = (t - visible_s * 0.1).clamp(0.0, last_page_s.max(0.0));
            }
        }
        let visuals = ui.visuals();
        painter.rect_filled(full, 0.0, visuals.extreme_bg_color);
        let key_height = area.height() / f32::from(self.highest - self.lowest + 1);
        let lowest = self.lowest;
        let y_of =
            |pitch: u8| area.bottom() - f32::from(pitch.saturating_sub(lowest) + 1) * key_height;
        let x_of = |t: f64| area.left() + ((t - self.start_s) as f32) * self.pixels_per_s;
        self.draw_lanes(&painter, area, key_height, &y_of, visuals.dark_mode);
        self.draw_notes(&painter, area, content, key_height, &y_of, &x_of);
        let grid = content.grid.as_ref();
        self.draw_ruler(&painter, full, area, &x_of, visuals.text_color(), grid);
        self.draw_keyboard(
            &painter,
            full,
            area,
            key_height,
            &y_of,
            visuals.text_color(),
        );
        self.draw_pedal(&painter, full, area, content, &x_of);
        draw_sections(&painter, area, &content.sections, &x_of);
        if let Some(passage) = selection {
            let band = Rect::from_min_max(
                Pos2::new(x_of(passage.start_s).max(area.left()), full.top()),
                Pos2::new(x_of(passage.end_s).min(area.right()), area.bottom()),
            );
            if band.width() > 0.0 {
                painter.rect_filled(band, 0.0, Color32::from_rgba_unmultiplied(90, 170, 250, 40));
                painter.rect_stroke(
                    band,
                    0.0,
                    Stroke::new(1.0, Color32::from_rgb(90, 170, 250)),
                    egui::StrokeKind::Inside,
                );
            }
        }
        if let Some(t) = playhead_s {
            let x = x_of(t);
            if (area.left()..=area.right()).contains(&x) {
                painter.line_segment(
                    [Pos2::new(x, full.top()), Pos2::new(x, full.bottom())],
                    Stroke::new(2.0, Color32::from_rgb(230, 80, 60)),
                );
            }
        }
        action
    }

    fn handle_input(
        &mut self,
        ui: &egui::Ui,
        response: &egui::Response,
        area: Rect,
        full: Rect,
        content: &RollContent,
        selection: &mut Option<Passage>,
    ) -> Option<RollAction> {
        let ruler = Rect::from_min_max(
            Pos2::new(area.left(), full.top()),
            Pos2::new(full.right(), area.top()),
        );
        let time_at =
            |x: f32| (self.start_s + f64::from((x - area.left()) / self.pixels_per_s)).max(0.0);
        let shift = ui.input(|i| i.modifiers.shift);
        // A drag is seen only once the pointer has moved a few points, by then a beat or more
        // further on at a normal pace: the selection starts where the button went down.
        let pressed_at = ui.input(|i| i.pointer.press_origin());
        if response.drag_started()
            && let Some(pos) = pressed_at.or(response.interact_pointer_pos())
            && (ruler.contains(pos) || shift)
        {
            self.selecting_from = Some(time_at(pos.x));
        }
        if let (Some(from), Some(pos)) = (self.selecting_from, response.interact_pointer_pos()) {
            if response.dragged() || response.drag_stopped() {
                let to = time_at(pos.x);
                let tolerance_s = f64::from(SNAP_PX / self.pixels_per_s);
                let snap = |t: f64| match &content.grid {
                    // On a bar grid a selection is whole beats, so "bars 5–8" can be redone.
                    Some(grid) => grid.time_of(grid.beats_at(t).round()),
                    None => snap_to_onset(content, t, tolerance_s),
                };
                let (start_s, end_s) = (snap(from.min(to)), snap(from.max(to)));
                *selection = (end_s - start_s >= 0.05).then_some(Passage { start_s, end_s });
            }
            if response.drag_stopped() {
                self.selecting_from = None;
            }
            return None;
        }
        if response.hovered() {
            let (scroll, zoom, pointer) =
                ui.input(|i| (i.smooth_scroll_delta, i.zoom_delta(), i.pointer.hover_pos()));
            if zoom != 1.0 {
                // Zoom about the pointer, so the moment under it stays put.
                let anchor_x = pointer.map_or(area.center().x, |p| p.x);
                let anchor_s =
                    self.start_s + f64::from((anchor_x - area.left()) / self.pixels_per_s);
                self.pixels_per_s =
                    (self.pixels_per_s * zoom).clamp(Self::ZOOM_RANGE.0, Self::ZOOM_RANGE.1);
                self.start_s =
                    (anchor_s - f64::from((anchor_x - area.left()) / self.pixels_per_s)).max(0.0);
            }
            let pan = if scroll.x != 0.0 { scroll.x } else { scroll.y };
            if pan != 0.0 {
                self.start_s = (self.start_s - f64::from(pan / self.pixels_per_s)).max(0.0);
                self.follow = false;
            }
        }
        if response.dragged() {
            self.start_s =
                (self.start_s - f64::from(response.drag_delta().x / self.pixels_per_s)).max(0.0);
            self.follow = false;
        }
        let clicked = response.clicked();
        let form_lane = Rect::from_min_size(area.min, Vec2::new(area.width(), FORM_LANE_HEIGHT));
        match response.interact_pointer_pos() {
            Some(pos) if clicked && form_lane.contains(pos) => {
                // A click on a section selects it, to redo it (its repeats follow).
                let at_s = self.start_s + f64::from((pos.x - area.left()) / self.pixels_per_s);
                if let Some(section) = content.sections.iter().find(|s| s.contains(at_s)) {
                    *selection = Some(Passage {
                        start_s: section.start_s,
                        end_s: section.end_s,
                    });
                }
                None
            }
            Some(pos) if clicked && ruler.contains(pos) => {
                self.follow = true;
                Some(RollAction::Seek(
                    self.start_s + f64::from((pos.x - area.left()) / self.pixels_per_s),
                ))
            }
            _ => None,
        }
    }

    fn draw_lanes(
        &self,
        painter: &egui::Painter,
        area: Rect,
        key_height: f32,
        y_of: &dyn Fn(u8) -> f32,
        dark: bool,
    ) {
        let black_lane = if dark {
            Color32::from_gray(22)
        } else {
            Color32::from_gray(232)
        };
        for pitch in self.lowest..=self.highest {
            if is_black(pitch) {
                let y = y_of(pitch);
                painter.rect_filled(
                    Rect::from_min_size(
                        Pos2::new(area.left(), y),
                        Vec2::new(area.width(), key_height),
                    ),
                    0.0,
                    black_lane,
                );
            }
        }
    }

    fn draw_notes(
        &self,
        painter: &egui::Painter,
        area: Rect,
        content: &RollContent,
        key_height: f32,
        y_of: &dyn Fn(u8) -> f32,
        x_of: &dyn Fn(f64) -> f32,
    ) {
        let end_s = self.start_s + f64::from(area.width() / self.pixels_per_s);
        // One mesh of plain quads: thousands of separate rounded, anti-aliased rectangles cost
        // more to lay out and tessellate than a frame allows when the view is zoomed out.
        let mut mesh = egui::Mesh::default();
        for note in &content.notes[content.visible_range(self.start_s, end_s)] {
            if note.end_s < self.start_s || !(self.lowest..=self.highest).contains(&note.pitch) {
                continue;
            }
            let rect = Rect::from_min_max(
                Pos2::new(x_of(note.start_s), y_of(note.pitch) + 0.5),
                Pos2::new(
                    x_of(note.end_s).max(x_of(note.start_s) + 2.0),
                    y_of(note.pitch) + key_height.max(2.0) - 0.5,
                ),
            );
            let primer = note.start_s < content.primer_end_s;
            mesh.add_colored_rect(rect, note_colour(note.velocity, primer));
        }
        painter.with_clip_rect(area).add(mesh);
    }

    fn draw_ruler(
        &self,
        painter: &egui::Painter,
        full: Rect,
        area: Rect,
        x_of: &dyn Fn(f64) -> f32,
        text: Color32,
        grid: Option<&Grid>,
    ) {
        let ruler = Rect::from_min_max(
            Pos2::new(area.left(), full.top()),
            Pos2::new(full.right(), area.top()),
        );
        painter.rect_filled(ruler, 0.0, text.gamma_multiply(0.08));
        if let Some(grid) = grid {
            self.draw_bars(painter, full, area, x_of, text, grid);
            return;
        }
        // A tick spacing that leaves at least 60 px between labels.
        let step = [1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0]
            .into_iter()
            .find(|s| *s as f32 * self.pixels_per_s >= 60.0)
            .unwrap_or(300.0);
        let end_s = self.start_s + f64::from(area.width() / self.pixels_per_s);
        let mut t = (self.start_s / step).floor() * step;
        while t <= end_s {
            let x = x_of(t);
            if x >= area.left() {
                painter.line_segment(
                    [Pos2::new(x, full.top() + 10.0), Pos2::new(x, area.bottom())],
                    Stroke::new(1.0, text.gamma_multiply(0.15)),
                );
                painter.text(
                    Pos2::new(x + 3.0, full.top() + 1.0),
                    Align2::LEFT_TOP,
                    format_time(t),
                    FontId::proportional(11.0),
                    text,
                );
            }
            t += step;
        }
    }

    /// Bar lines numbered from 1 on the ruler and through the roll, and fainter beat lines when
    /// beats are at least [`MIN_BEAT_PX`] apart; bar numbers are thinned to keep 40 px apart.
    fn draw_bars(
        &self,
        painter: &egui::Painter,
        full: Rect,
        area: Rect,
        x_of: &dyn Fn(f64) -> f32,
        text: Color32,
        grid: &Grid,
    ) {
        let end_s = self.start_s + f64::from(area.width() / self.pixels_per_s);
        let first = grid.beats_at(self.start_s).floor().max(0.0);
        let last = grid.beats_at(end_s).ceil();
        let beat_px = (x_of(grid.time_of(first + 1.0)) - x_of(grid.time_of(first))).abs();
        let bar_px = beat_px * f32::from(grid.position(self.start_s).signature.beats_per_bar());
        let label_every = (40.0 / bar_px.max(1.0)).ceil().max(1.0) as i64;
        let mut beat = first;
        while beat <= last {
            let at_s = grid.time_of(beat);
            let x = x_of(at_s);
            let position = grid.position(at_s + 1e-6);
            let downbeat = position.in_bar == 0;
            if x >= area.left() && (downbeat || beat_px >= MIN_BEAT_PX) {
                let (top, alpha) = if downbeat {
                    (full.top() + 10.0, 0.3)
                } else {
                    (area.top(), 0.1)
                };
                painter.line_segment(
                    [Pos2::new(x, top), Pos2::new(x, area.bottom())],
                    Stroke::new(1.0, text.gamma_multiply(alpha)),
                );
                if downbeat && position.bar % label_every == 0 {
                    painter.text(
                        Pos2::new(x + 3.0, full.top() + 1.0),
                        Align2::LEFT_TOP,
                        (position.bar + 1).to_string(),
                        FontId::proportional(11.0),
                        text,
                    );
                }
            }
            beat += 1.0;
        }
    }

    fn draw_keyboard(
        &self,
        painter: &egui::Painter,
        full: Rect,
        area: Rect,
        key_height: f32,
        y_of: &dyn Fn(u8) -> f32,
        text: Color32,
    ) {
        let keys = Rect::from_min_max(
            Pos2::new(full.left(), area.top()),
            Pos2::new(area.left(), area.bottom()),
        );
        painter.rect_filled(keys, 0.0, Color32::from_gray(245));
        for pitch in self.lowest..=self.highest {
            let y = y_of(pitch);
            if is_black(pitch) {
                painter.rect_filled(
                    Rect::from_min_size(
                        Pos2::new(keys.left(), y),
                        Vec2::new(keys.width() * 0.6, key_height),
                    ),
                    0.0,
                    Color32::from_gray(30),
                );
            }
            if pitch % 12 == 0 {
                painter.line_segment(
                    [
                        Pos2::new(keys.left(), y + key_height),
                        Pos2::new(area.right(), y + key_height),
                    ],
                    Stroke::new(1.0, text.gamma_multiply(0.2)),
                );
                painter.text(
                    Pos2::new(keys.right() - 2.0, y + key_height / 2.0),
                    Align2::RIGHT_CENTER,
                    format!("C{}", i32::from(pitch) / 12 - 1),
                    FontId::proportional(9.0),
                    Color32::from_gray(60),
                );
            }
        }
    }

    fn draw_pedal(
        &self,
        painter: &egui::Painter,
        full: Rect,
        area: Rect,
        content: &RollContent,
        x_of: &dyn Fn(f64) -> f32,
    ) {
        let lane = Rect::from_min_max(Pos2::new(area.left(), area.bottom()), full.max);
        let painter = painter.with_clip_rect(lane);
        let end_s = self.start_s + f64::from(area.width() / self.pixels_per_s);
        let visible = content
            .pedal
            .iter()
            .filter(|p| p.end_s >= self.start_s && p.start_s <= end_s);
        let mut mesh = egui::Mesh::default();
        for interval in visible {
            let rect = Rect::from_min_max(
                Pos2::new(x_of(interval.start_s), lane.top() + 2.0),
                Pos2::new(x_of(interval.end_s), lane.bottom() - 2.0),
            );
            mesh.add_colored_rect(rect, Color32::from_rgb(120, 170, 120));
        }
        painter.add(mesh);
    }
}

fn is_black(pitch: u8) -> bool {
    matches!(pitch % 12, 1 | 3 | 6 | 8 | 10)
}

/// Soft notes are pale blue, loud ones deep orange; primer notes are grey-blue.
fn note_colour(velocity: u8, primer: bool) -> Color32 {
    if primer {
        return Color32::from_rgb(130, 140, 165);
    }
    let t = f32::from(velocity.min(127)) / 127.0;
    let mix = |a: f32, b: f32| (a + (b - a) * t) as u8;
    Color32::from_rgb(mix(90.0, 240.0), mix(160.0, 110.0), mix(230.0, 40.0))
}

/// `t`, moved to the nearest onset within `tolerance_s`.
fn snap_to_onset(content: &RollContent, t: f64, tolerance_s: f64) -> f64 {
    let after = content.notes.partition_point(|n| n.start_s < t);
    [after.checked_sub(1), Some(after)]
        .into_iter()
        .flatten()
        .filter_map(|i| content.notes.get(i))
        .map(|n| n.start_s)
        .filter(|onset| (onset - t).abs() <= tolerance_s)
        .min_by(|a, b| (a - t).abs().total_cmp(&(b - t).abs()))
        .unwrap_or(t)
}

/// Height of the form lane at the top of the roll.
const FORM_LANE_HEIGHT: f32 = 16.0;

/// The form's sections as labelled blocks across the top of the roll, a colour per letter, so a
/// returning section is seen to return.
fn draw_sections(
    painter: &egui::Painter,
    area: Rect,
    sections: &[SectionTime],
    x_of: &dyn Fn(f64) -> f32,
) {
    let painter = painter.with_clip_rect(area);
    for section in sections {
        let hue = f32::from(section.section.letter as u8 - b'A') * 0.17 % 1.0;
        let colour: Color32 = egui::ecolor::Hsva::new(hue, 0.45, 0.55, 0.85).into();
        let block = Rect::from_min_max(
            Pos2::new(x_of(section.start_s) + 1.0, area.top()),
            Pos2::new(x_of(section.end_s) - 1.0, area.top() + FORM_LANE_HEIGHT),
        );
        painter.rect_filled(block, 2.0, colour);
        painter.text(
            block.left_center() + Vec2::new(4.0, 0.0),
            Align2::LEFT_CENTER,
            format!("{}", section.section),
            FontId::proportional(11.0),
            Color32::WHITE,
        );
    }
}
