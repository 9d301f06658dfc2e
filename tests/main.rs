//! Cadenza's integration tests, in one binary so that libtorch and the GUI stack link once.

mod audio;
mod cli;
mod corpus_load;
mod defaults;
mod encoding_props;
mod faults;
mod form;
mod generation;
mod layout;
mod live;
mod meter;
mod midi_read;
mod midi_reference;
mod output_guard;
mod paths;
mod regenerate;
mod soundfont_safety;
mod starter;
mod steering;
mod support;
mod training;
