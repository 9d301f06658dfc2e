//! Generation as a job: a request run on a worker thread, streaming notes as it samples.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use crate::base::worker::{Context, Repaint, Worker};
use crate::model::checkpoint::{self, LoadedModel};
use crate::model::{DeviceChoice, ResolvedDevice, resolve_device};
use crate::music::meter::Grid;
use crate::music::plan::ControlPlan;

use super::form::sample_take;
use super::primer::Primer;
use super::sampler::Update;
use super::settings::{GenerateError, SamplingSettings};
use super::steering::Steering;
use super::take::{Operation, Take};

/// A generation to run on a worker thread.
#[derive(Debug, Clone)]
pub struct GenerateRequest {
    /// Checkpoint (stem or either file).
    pub checkpoint: PathBuf,
    /// The controls.
    pub settings: SamplingSettings,
    /// What to continue.
    pub primer: Primer,
    /// What to ask the model for.
    pub controls: ControlPlan,
    /// Where to run the network.
    pub device: DeviceChoice,
    /// The take this generation continues, if any: its takes become versions of it, made by
    /// [`Operation::Continue`] from the primer's end.
    pub continues: Option<u64>,
}

/// What a generation worker reports before its takes.
#[derive(Debug, Clone, PartialEq)]
pub enum GenerateEvent {
    /// The checkpoint loaded and sampling began.
    Started {
        /// The device, described for people.
        device: String,
        /// The primer's notes, shown before anything is sampled.
        primer: Primer,
        /// The bar grid the music is written on, if any.
        grid: Option<Grid>,
    },
    /// Notes or progress while sampling.
    Update(Update),
}

/// A running generation: [`GenerateEvent`]s, then the takes (one per variation). Cancel it with
/// [`Worker::cancel`]; dropping it cancels and waits.
pub type GeneratorHandle = Worker<(), GenerateEvent, Vec<Take>>;

/// Starts a generation on a worker thread; `repaint` is called after every event sent.
pub fn spawn(request: GenerateRequest, repaint: Repaint) -> GeneratorHandle {
    Worker::spawn("cadenza-generate", repaint, move |ctx| {
        run(&request, ctx)?.ok_or(crate::base::worker::Stop::Cancelled)
    })
}

fn run(
    request: &GenerateRequest,
    ctx: &Context<(), GenerateEvent>,
) -> Result<Option<Vec<Take>>, GenerateError> {
    request.settings.validate()?;
    let device = resolve_device(request.device).map_err(GenerateError::Device)?;
    let loaded = checkpoint::load_model(&request.checkpoint, device.device)?;
    let mut observe = |event| ctx.update(event);
    run_loaded(request, &loaded, &device, &mut observe, ctx.cancel_flag())
}

/// Runs `request` with its model already loaded on `device` (a live session keeps it loaded
/// between answers): the events as [`spawn`] sends them, then the takes; `None` if cancelled.
pub fn run_loaded(
    request: &GenerateRequest,
    loaded: &LoadedModel,
    device: &ResolvedDevice,
    observe: &mut dyn FnMut(GenerateEvent),
    cancel: &AtomicBool,
) -> Result<Option<Vec<Take>>, GenerateError> {
    request.settings.validate()?;
    let steering =
        Steering::new(&loaded.meta, request.controls.clone())?.or_grid(request.primer.grid.clone());
    // A length in bars without a grid is refused before the job says it started.
    request
        .settings
        .length
        .on_grid(steering.grid(), request.primer.end_s)?;
    tracing::info!(
        checkpoint = %request.checkpoint.display(),
        device = %device.description,
        variations = request.settings.variations,
        seed = request.settings.seed,
        controls = %request.controls.summary(),
        "generating"
    );
    observe(GenerateEvent::Started {
        device: device.description.clone(),
        primer: request.primer.clone(),
        grid: steering.grid().cloned(),
    });
    let sampled = sample_take(
        &loaded.model,
        &steering,
        device.device,
        &request.settings,
        &request.primer,
        &mut |update| observe(GenerateEvent::Update(update)),
        cancel,
    )?;
    let checkpoint = absolute_stem(&request.checkpoint).display().to_string();
    Ok(sampled.map(|pieces| {
        pieces
            .into_iter()
            .map(|piece| Take {
                grid: steering.grid().map(|grid| grid.until(end_of(&piece.notes))),
                id: 0,
                parent: request.continues,
                operation: match request.continues {
                    Some(_) => Operation::Continue {
                        from_s: request.primer.end_s,
                    },
                    None => Operation::Generate,
                },
                notes: piece.notes,
                primer_end_s: request.primer.end_s,
                primer: request.primer.description.clone(),
                seed: piece.seed,
                settings: request.settings,
                controls: request.controls.clone(),
                checkpoint: checkpoint.clone(),
                events: piece.events,
                events_per_s: piece.events_per_s,
            })
            .collect()
    }))
}

/// The checkpoint's stem as an absolute path without `.` or `..` (a take names its model the
/// same from any working folder); as given if its description cannot be found.
fn absolute_stem(path: &Path) -> PathBuf {
    let stem = checkpoint::stem(path);
    std::fs::canonicalize(checkpoint::meta_path(&stem))
        .map(|meta| checkpoint::stem(&meta))
        .unwrap_or(stem)
}

/// When the last note ends.
fn end_of(notes: &[crate::music::midi::Note]) -> f64 {
    notes.iter().map(|n| n.end_s).fold(0.0, f64::max)
}

/// Output paths for `variations` takes: `FILE.mid` for one, `FILE-1.mid … FILE-N.mid` for more.
pub fn output_paths(out: &Path, variations: usize) -> Vec<PathBuf> {
    if variations <= 1 {
        return vec![out.to_path_buf()];
    }
    let stem = out.file_stem().unwrap_or_default().to_string_lossy();
    let extension = out
        .extension()
        .map_or("mid".into(), |e| e.to_string_lossy());
    (1..=variations)
        .map(|i| out.with_file_name(format!("{stem}-{i}.{extension}")))
        .collect()
}
