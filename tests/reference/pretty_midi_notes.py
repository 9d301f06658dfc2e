"""Prints, for each MIDI file named on the command line, what pretty_midi extracts: one JSON object
per line, {"path", "notes": [[pitch, start, end, velocity], ...]} (drums excluded) or
{"path", "error"}. Files are read by two worker processes. The reference for tests/midi_reference.rs."""

import json
import multiprocessing
import sys
import warnings


def extract(path):
    warnings.simplefilter("ignore")
    import pretty_midi

    try:
        midi = pretty_midi.PrettyMIDI(path)
    except Exception as err:  # pretty_midi raises many kinds; any of them means "refused"
        return {"path": path, "error": f"{type(err).__name__}: {err}"}
    notes = [
        [n.pitch, n.start, n.end, n.velocity]
        for inst in midi.instruments
        if not inst.is_drum
        for n in inst.notes
    ]
    return {"path": path, "notes": notes}


def main():
    paths = sys.argv[1:]
    with multiprocessing.Pool(2) as pool:
        for result in pool.imap(extract, paths, chunksize=8):
            sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
