"""How long notes are held: takes written by `cadenza generate` beside the corpus, read with
pretty_midi (the reference reader), the corpus's pedal applied as Cadenza's encoder applies it (a
release inside a pedal-down interval moves to the lift; a re-struck pitch ends its previous
sounding instance). Prints, for each folder of takes, the notes ended at the sampler's 5-s cap and
the share held over 4 s, and the same share for the corpus.

    PYTHONPATH=.pydeps python3 benches/reference/held_notes.py ../shared/corpus/piano-midi-de TAKES_DIR...

where each TAKES_DIR holds files from, e.g.,
    cadenza generate --checkpoint assets/models/starter --out DIR/take.mid --tempo 90 \
        --meter 4/4 --seconds 30 --seed 101 --variations 10
"""

import glob
import sys

import numpy as np
import pretty_midi

CAP_S = 5.0
LONG_S = 4.0


def pedal_intervals(instrument):
    intervals, down = [], None
    for cc in sorted(instrument.control_changes, key=lambda c: c.time):
        if cc.number != 64:
            continue
        if cc.value >= 64 and down is None:
            down = cc.time
        elif cc.value < 64 and down is not None:
            intervals.append((down, cc.time))
            down = None
    return intervals


def sounding_lengths(path):
    lengths = []
    for instrument in pretty_midi.PrettyMIDI(path).instruments:
        if instrument.is_drum:
            continue
        pedal = pedal_intervals(instrument)
        notes = []
        for note in sorted(instrument.notes, key=lambda n: n.start):
            end = note.end
            for down, lift in pedal:
                if down <= end < lift:
                    end = lift
                    break
            notes.append([note.pitch, note.start, end])
        last = {}
        for note in notes:
            previous = last.get(note[0])
            if previous is not None and previous[2] > note[1]:
                previous[2] = note[1]
            last[note[0]] = note
        lengths += [end - start for _, start, end in notes]
    return np.array(lengths)


def main():
    corpus, takes = sys.argv[1], sys.argv[2:]
    files = sorted(glob.glob(corpus + "/**/*.mid", recursive=True))
    lengths = np.concatenate([sounding_lengths(f) for f in files])
    print(f"corpus ({len(files)} files, {len(lengths)} notes, pedal applied): "
          f"over {LONG_S:g} s {100 * (lengths > LONG_S).mean():.2f} %")
    for folder in takes:
        files = sorted(glob.glob(folder + "/*.mid"))
        per_take = [sounding_lengths(f) for f in files]
        capped = [int((l >= CAP_S - 0.01).sum()) for l in per_take]
        lengths = np.concatenate(per_take)
        print(f"{folder} ({len(files)} takes, {len(lengths)} notes): at the {CAP_S:g}-s cap "
              f"{np.mean(capped):.1f} per take {capped}, over {LONG_S:g} s "
              f"{100 * (lengths > LONG_S).mean():.2f} %")


if __name__ == "__main__":
    main()
