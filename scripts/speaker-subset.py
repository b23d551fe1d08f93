#!/usr/bin/python3
"""A data folder holding a share of a folder's training speakers, for learning curves.

Usage: scripts/speaker-subset.py DATA OUT PERCENT

OUT gets symbolic links to DATA's clips: every validation and test clip (DATA's
validation_list.txt / testing_list.txt, copied), and the training clips of the speakers whose
SHA-1 of the speaker id (the file name before "_nohash_") is below PERCENT modulo 100. So the
validation split is DATA's own, the training speakers a fixed subset (the same for the same
PERCENT, and a smaller PERCENT's speakers are within a larger one's). DATA must use list files;
`_`-prefixed folders (background noise) are left out. Stdlib only; prints the clips kept.
"""
import hashlib
import os
import sys


def main():
    if len(sys.argv) != 4:
        print("usage: scripts/speaker-subset.py DATA OUT PERCENT", file=sys.stderr)
        sys.exit(2)
    data, out, percent = sys.argv[1], sys.argv[2], sys.argv[3]
    if not percent.isdigit() or not 1 <= int(percent) <= 100:
        print(f"speaker-subset: PERCENT must be an integer in [1, 100], got '{percent}'", file=sys.stderr)
        sys.exit(2)
    percent = int(percent)
    lists = {}
    for name in ("validation_list.txt", "testing_list.txt"):
        path = os.path.join(data, name)
        lists[name] = open(path).read() if os.path.exists(path) else None
    if lists["validation_list.txt"] is None:
        print(f"speaker-subset: {data}: no validation_list.txt (the subset keeps its split)", file=sys.stderr)
        sys.exit(2)
    held = set(lists["validation_list.txt"].split()) | set((lists["testing_list.txt"] or "").split())
    os.makedirs(out, exist_ok=True)
    for word in sorted(os.listdir(data)):
        src = os.path.join(data, word)
        if word.startswith("_") or not os.path.isdir(src):
            continue
        os.makedirs(os.path.join(out, word), exist_ok=True)
        kept = 0
        for f in sorted(os.listdir(src)):
            rel = word + "/" + f
            speaker = f.split("_nohash_")[0]
            in_subset = int(hashlib.sha1(speaker.encode()).hexdigest(), 16) % 100 < percent
            if rel in held or in_subset:
                dst = os.path.join(out, rel)
                if not os.path.lexists(dst):
                    os.symlink(os.path.abspath(os.path.join(src, f)), dst)
                kept += rel not in held
        print(f"{word}: {kept} training clips")
    for name, text in lists.items():
        if text is not None:
            with open(os.path.join(out, name), "w") as fh:
                fh.write(text)


if __name__ == "__main__":
    main()
