#!/usr/bin/env python3
"""Build the extra labelled datasets for the learning benchmark.

Run:  python3 experiments/learning/fetch_datasets.py [--only NAME ...]

Every dataset comes from a file that ships inside a Debian package; nothing is
fetched from a website. The script fetches each .deb with `apt-get download`
(no root needed) into a temporary directory, unpacks it with `dpkg-deb -x`,
converts the file and writes experiments/data/learning/NAME.jsonl, one JSON object per
line: "id", "label", and either "text" or "vector" (plus "split" where the
source publishes one). The output is deterministic: the same package version gives the same bytes.
DATASETS.md (beside this script) says where each set comes from, its licence and its encoding.

Standard library only: the R .rda files are read by the small R-serialization
reader below, so neither R nor pandas is needed.
"""
import argparse
import bz2
import glob
import gzip
import json
import lzma
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
OUT_DIR = os.path.join(ROOT, "experiments", "data", "learning")

# Debian 12 (bookworm) versions the outputs were built and checked with.
PACKAGES = {
    "wordnet-base": "1:3.0-37",
    "r-cran-mlbench": "2.1-3-1",
}


# --------------------------------------------------------------------------
# Getting a package's files
# --------------------------------------------------------------------------

def unpack_deb(pkg, workdir):
    """Return the root of the unpacked .deb of `pkg` (pinned version if apt has it)."""
    dest = os.path.join(workdir, pkg)
    if os.path.isdir(dest):
        return dest
    want = PACKAGES[pkg]
    debdir = os.path.join(workdir, "debs")
    os.makedirs(debdir, exist_ok=True)
    for spec in (f"{pkg}={want}", pkg):
        r = subprocess.run(["apt-get", "download", spec], cwd=debdir,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if r.returncode == 0:
            break
        print(f"  apt-get download {spec} failed: {r.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
    else:
        sys.exit(f"cannot download {pkg}; run 'apt-get update' first (needs root once), "
                 "or check the network to Debian's mirror")
    debs = sorted(glob.glob(os.path.join(debdir, pkg + "_*.deb")))
    if not debs:
        sys.exit(f"apt-get download {pkg} produced no .deb")
    deb = debs[-1]
    version = subprocess.run(["dpkg-deb", "-f", deb, "Version"], stdout=subprocess.PIPE,
                             text=True, check=True).stdout.strip()
    if version != want:
        print(f"  WARNING: {pkg} {version} is not the version {want} the outputs were checked "
              "with; rows may differ from DATASETS.md", file=sys.stderr)
    subprocess.run(["dpkg-deb", "-x", deb, dest], check=True)
    print(f"  {pkg} {version}: {os.path.basename(deb)}")
    return dest


# --------------------------------------------------------------------------
# A minimal reader for R's serialization format (XDR, versions 2 and 3),
# enough for the data frames of numbers and factors in an .rda file.
# --------------------------------------------------------------------------

NA_INT = -(2 ** 31)


class RObj:
    """An R object: type code, value (list / str / None), attributes dict."""

    def __init__(self, sxptype, value, attrs=None):
        self.type = sxptype
        self.value = value
        self.attrs = attrs or {}

    def attr(self, name):
        a = self.attrs.get(name)
        return a.value if isinstance(a, RObj) else a


class RReader:
    SPECIAL = {254: "NULL", 242: "emptyenv", 241: "baseenv", 253: "globalenv",
               252: "unbound", 251: "missingarg", 247: "basenamespace"}

    def __init__(self, data):
        self.d = data
        self.p = 0
        self.refs = []

    def int(self):
        v = struct.unpack_from(">i", self.d, self.p)[0]
        self.p += 4
        return v

    def length(self):
        n = self.int()
        if n == -1:
            hi, lo = self.int(), self.int()
            n = (hi << 32) + lo
        return n

    def read_file(self):
        if self.d[:5] in (b"RDX2\n", b"RDX3\n"):
            self.p = 5
        if self.d[self.p:self.p + 2] != b"X\n":
            raise ValueError("only XDR-format R serialization is supported")
        self.p += 2
        version = self.int()
        self.int()  # writer R version
        self.int()  # minimal reader version
        if version == 3:
            n = self.int()
            self.p += n  # native encoding name
        return self.item()

    def pairlist_to_dict(self, obj):
        out = {}
        while isinstance(obj, RObj) and obj.type == 2:
            tag, car, cdr = obj.value
            out[tag] = car
            obj = cdr
        return out

    def item(self):
        flags = self.int()
        t = flags & 0xFF
        has_attr = bool(flags & (1 << 9))
        has_tag = bool(flags & (1 << 10))
        if t in self.SPECIAL:
            return None if t == 254 else RObj(t, self.SPECIAL[t])
        if t == 255:  # REFSXP
            idx = flags >> 8
            if idx == 0:
                idx = self.int()
            return self.refs[idx - 1]
        if t == 1:  # SYMSXP
            name = self.item()
            sym = RObj(1, name.value if isinstance(name, RObj) else name)
            self.refs.append(sym)
            return sym
        if t in (249, 250):  # NAMESPACESXP, PACKAGESXP
            self.int()
            n = self.int()
            obj = RObj(t, [self.item() for _ in range(n)])
            self.refs.append(obj)
            return obj
        if t == 4:  # ENVSXP
            obj = RObj(4, None)
            self.refs.append(obj)
            self.int()  # locked
            enclos, frame, hashtab, attrib = self.item(), self.item(), self.item(), self.item()
            obj.value = (enclos, frame, hashtab)
            return obj
        if t in (2, 3, 5, 6, 17):  # pairlist-like
            attrs = self.pairlist_to_dict(self.item()) if has_attr else {}
            tag = None
            if has_tag:
                s = self.item()
                tag = s.value if isinstance(s, RObj) else s
            car = self.item()
            cdr = self.item()
            return RObj(t, (tag, car, cdr), attrs)
        if t == 238:  # ALTREP_SXP
            info = self.item()
            state = self.item()
            attr = self.item()
            cls = info.value[1].value if isinstance(info, RObj) else None
            obj = self.altrep(cls, state)
            obj.attrs = self.pairlist_to_dict(attr)
            return obj
        if t == 9:  # CHARSXP
            n = self.int()
            if n == -1:
                return None
            s = self.d[self.p:self.p + n]
            self.p += n
            return s.decode("utf-8" if flags & (1 << 15) or not flags & (1 << 14) else "latin-1",
                            errors="replace")
        if t in (10, 13):  # LGLSXP, INTSXP
            n = self.length()
            v = list(struct.unpack_from(f">{n}i", self.d, self.p))
            self.p += 4 * n
            v = [None if x == NA_INT else x for x in v]
            obj = RObj(t, v)
        elif t == 14:  # REALSXP
            n = self.length()
            v = list(struct.unpack_from(f">{n}d", self.d, self.p))
            self.p += 8 * n
            obj = RObj(t, v)
        elif t == 16:  # STRSXP
            n = self.length()
            obj = RObj(t, [self.item() for _ in range(n)])
        elif t in (19, 20):  # VECSXP, EXPRSXP
            n = self.length()
            obj = RObj(t, [self.item() for _ in range(n)])
        else:
            raise ValueError(f"unsupported R SEXP type {t} at byte {self.p}")
        if has_attr:
            obj.attrs = self.pairlist_to_dict(self.item())
        return obj

    def altrep(self, cls, state):
        if cls == "compact_intseq":
            n, start, inc = (int(x) for x in state.value)
            return RObj(13, [start + i * inc for i in range(n)])
        if cls == "compact_realseq":
            n, start, inc = state.value
            return RObj(14, [start + i * inc for i in range(int(n))])
        if cls and cls.startswith("wrap_"):
            return state.value[0]
        if cls == "deferred_string":
            arg = state.value[1] if state.type == 2 else state
            return RObj(16, [None if x is None else str(x) for x in arg.value])
        raise ValueError(f"unsupported ALTREP class {cls}")


def read_rda(path):
    """Return {name: RObj} for the objects saved in an .rda file."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    elif raw[:3] == b"BZh":
        raw = bz2.decompress(raw)
    elif raw[:6] == b"\xfd7zXZ\x00":
        raw = lzma.decompress(raw)
    r = RReader(raw)
    return r.pairlist_to_dict(r.read_file())


def data_frame_columns(df):
    """[(name, kind, values, levels)] for an R data.frame; kind is 'num' or 'factor'.

    Factor values are level strings (None for NA); numeric NA (a NaN) becomes None.
    """
    names = df.attr("names")
    cols = []
    for name, col in zip(names, df.value):
        levels = col.attr("levels")
        if levels is not None:
            vals = [None if c is None else levels[c - 1] for c in col.value]
            cols.append((name, "factor", vals, list(levels)))
        else:
            vals = [None if v is None or v != v else v for v in col.value]
            cols.append((name, "num", vals, None))
    return cols


# --------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------

def num(x):
    """A number as JSON writes it compactly and stably: integral floats as ints."""
    if isinstance(x, float) and x.is_integer() and abs(x) < 2 ** 53:
        return int(x)
    return x


def write_jsonl(name, rows):
    os.makedirs(OUT_DIR, exist_ok=True)
    path = os.path.join(OUT_DIR, name + ".jsonl")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False, separators=(", ", ": ")) + "\n")
    os.replace(tmp, path)
    counts = {}
    for row in rows:
        counts[row["label"]] = counts.get(row["label"], 0) + 1
    splits = {}
    for row in rows:
        if "split" in row:
            splits[row["split"]] = splits.get(row["split"], 0) + 1
    lo = min(counts.items(), key=lambda kv: (kv[1], kv[0]))
    hi = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
    extra = f", split {splits}" if splits else ""
    print(f"{os.path.relpath(path, ROOT)}: {len(rows)} rows, {len(counts)} classes, "
          f"class counts {lo[1]} ({lo[0]}) .. {hi[1]} ({hi[0]}){extra}")
    return path


# --------------------------------------------------------------------------
# Datasets
# --------------------------------------------------------------------------

# WordNet's lexicographer files (lexnames(5WN)); verbs are files 29-43.
VERB_LEXNAMES = {
    29: "body", 30: "change", 31: "cognition", 32: "communication", 33: "competition",
    34: "consumption", 35: "contact", 36: "creation", 37: "emotion", 38: "motion",
    39: "perception", 40: "possession", 41: "social", 42: "stative", 43: "weather",
}


def wordnet_verbs(workdir):
    """Every WordNet 3.0 verb synset: its words and gloss, labelled with its lexicographer file."""
    root = unpack_deb("wordnet-base", workdir)
    path = os.path.join(root, "usr", "share", "wordnet", "data.verb")
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("  "):  # licence header
                continue
            head, _, gloss = line.partition(" | ")
            fields = head.split()
            offset, lex_filenum, ss_type = fields[0], int(fields[1]), fields[2]
            assert ss_type == "v", line
            w_cnt = int(fields[3], 16)
            words = [fields[4 + 2 * i].replace("_", " ") for i in range(w_cnt)]
            text = ", ".join(words) + ": " + gloss.strip()
            rows.append({"id": f"wordnet_verbs-{offset}", "label": VERB_LEXNAMES[lex_filenum],
                         "text": text})
    return write_jsonl("wordnet_verbs", rows)


def satellite(workdir):
    """mlbench Satellite (Statlog Landsat): 36 multispectral pixel values -> 6 soil/crop classes."""
    root = unpack_deb("r-cran-mlbench", workdir)
    objs = read_rda(os.path.join(root, "usr", "lib", "R", "site-library", "mlbench", "data",
                                 "Satellite.rda"))
    cols = data_frame_columns(objs["Satellite"])
    feats = [c for c in cols if c[0] != "classes"]
    (label_col,) = [c for c in cols if c[0] == "classes"]
    assert all(k == "num" for _, k, _, _ in feats) and len(feats) == 36
    # mlbench stacks the published Statlog files: rows 1-4435 are sat.trn, 4436-6435 sat.tst
    # (the class counts of each part match the published ones exactly; checked below).
    n_train = 4435
    rows = []
    for i, label in enumerate(label_col[2]):
        vec = [num(c[2][i]) for c in feats]
        assert label is not None and all(v is not None for v in vec)
        rows.append({"id": f"satellite-{i + 1:05d}", "label": label, "vector": vec,
                     "split": "train" if i < n_train else "test"})
    train_counts = {}
    for r in rows[:n_train]:
        train_counts[r["label"]] = train_counts.get(r["label"], 0) + 1
    assert len(rows) == 6435 and train_counts == {
        "red soil": 1072, "cotton crop": 479, "grey soil": 961, "damp grey soil": 415,
        "vegetation stubble": 470, "very damp grey soil": 1038}, train_counts
    return write_jsonl("satellite", rows)


def soybean(workdir):
    """mlbench Soybean: 35 categorical plant/seed/leaf observations -> 19 diseases.

    Every attribute is one-hot encoded over its levels (in the package's level order);
    a missing value (NA) sets no bit of its attribute's block and sets that
    attribute's own "missing" indicator, appended after all the one-hot blocks.
    """
    root = unpack_deb("r-cran-mlbench", workdir)
    objs = read_rda(os.path.join(root, "usr", "lib", "R", "site-library", "mlbench", "data",
                                 "Soybean.rda"))
    cols = data_frame_columns(objs["Soybean"])
    (label_col,) = [c for c in cols if c[0] == "Class"]
    feats = [c for c in cols if c[0] != "Class"]
    assert all(k == "factor" for _, k, _, _ in feats)
    missing_cols = [c for c in feats if any(v is None for v in c[2])]
    # mlbench stacks UCI's soybean-large.data (307 rows) and soybean-large.test (376 rows);
    # each part lists the classes in the same order, so the order restarts at row 308.
    labels = label_col[2]
    n_train = 307
    assert len(labels) == 683 and labels[n_train] == labels[0] != labels[n_train - 1]
    assert len(set(labels[:n_train])) == 19
    rows = []
    for i, label in enumerate(labels):
        vec = []
        for _, _, vals, levels in feats:
            vec.extend(1 if vals[i] == lv else 0 for lv in levels)
        vec.extend(1 if c[2][i] is None else 0 for c in missing_cols)
        rows.append({"id": f"soybean-{i + 1:04d}", "label": label, "vector": vec,
                     "split": "train" if i < n_train else "test"})
    return write_jsonl("soybean", rows)


DATASETS = {"wordnet_verbs": wordnet_verbs, "satellite": satellite, "soybean": soybean}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", nargs="*", choices=sorted(DATASETS), help="build only these")
    args = ap.parse_args()
    names = args.only or list(DATASETS)
    if not shutil.which("apt-get") or not shutil.which("dpkg-deb"):
        sys.exit("needs apt-get and dpkg-deb (a Debian system)")
    with tempfile.TemporaryDirectory(prefix="quorum-datasets-") as workdir:
        for name in names:
            DATASETS[name](workdir)


if __name__ == "__main__":
    main()
