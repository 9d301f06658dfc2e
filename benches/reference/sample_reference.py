"""PyTorch reference for Cadenza's generation benchmark: incremental sampling with nn.LSTM.

Loads a Cadenza checkpoint's safetensors file (parameter names match nn.Embedding / nn.LSTM /
nn.Linear), then samples EVENTS events for a batch of BATCH sequences, one step at a time,
carrying the LSTM state, the way a PyTorch user would write it. Prints one JSON object:
{"events_per_s": per sequence, "seconds": ...}.
"""

import argparse
import json
import struct
import time

import numpy as np
import torch
from torch import nn

VOCAB = 388


def load_safetensors(path):
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", info
        start, end = info["data_offsets"]
        array = np.frombuffer(data[start:end], dtype=np.float32).reshape(info["shape"])
        tensors[name] = torch.from_numpy(array.copy())
    return tensors


class Net(nn.Module):
    def __init__(self, embed, layers, hidden):
        super().__init__()
        self.embedding = nn.Embedding(VOCAB + 1, embed)  # inputs include the start event
        self.lstm = nn.LSTM(embed, hidden, layers, batch_first=True)
        self.head = nn.Linear(hidden, VOCAB)

    def forward(self, events, state=None):
        output, state = self.lstm(self.embedding(events), state)
        return self.head(output), state


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--weights", required=True)
    parser.add_argument("--embed", type=int, required=True)
    parser.add_argument("--layers", type=int, required=True)
    parser.add_argument("--hidden", type=int, required=True)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    net = Net(args.embed, args.layers, args.hidden)
    net.load_state_dict(load_safetensors(args.weights))
    net.eval()
    with torch.no_grad():
        x = torch.full((args.batch, 1), 372, dtype=torch.long)
        state = None
        for _ in range(20):  # warm-up
            logits, state = net(x, state)
        state = None
        start = time.perf_counter()
        for _ in range(args.events):
            logits, state = net(x, state)
            probs = torch.softmax(logits[:, -1, :], dim=-1)
            x = torch.multinomial(probs, 1)
        seconds = time.perf_counter() - start
    print(json.dumps({"events_per_s": args.events / seconds, "seconds": seconds}))


if __name__ == "__main__":
    main()
