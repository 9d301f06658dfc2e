"""Prints, for each MIDI file named on the command line, the bar grid pretty_midi reads from it: one
JSON object per line, {"path", "beats": [seconds...], "downbeats": [seconds...], "end": seconds} or
{"path", "error"}; beats and downbeats up to the last note's end. The reference for the bar-grid
tests in tests/meter.rs."""

import json
import multiprocessing
import sys
import warnings


def extract(path):
    warnings.simplefilter("ignore")
    import pretty_midi

    try:
        midi = pretty_midi.PrettyMIDI(path)
        end = max((n.end for i in midi.instruments for n in i.notes), default=0.0)
        beats = [float(b) for b in midi.get_beats() if b <= end]
        downbeats = [float(b) for b in midi.get_downbeats() if b <= end]
    except Exception as err:  # pretty_midi raises many kinds; any of them means "refused"
        return {"path": path, "error": f"{type(err).__name__}: {err}"}
    return {"path": path, "beats": beats, "downbeats": downbeats, "end": end}


def main():
    paths = sys.argv[1:]
    with multiprocessing.Pool(2) as pool:
        for result in pool.imap(extract, paths, chunksize=4):
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
