"""python-threatexchange's own writers and readers, for hashlists/tests/pytx_formats.rs.

    python formats.py write OUT_DIR   files made by pytx: `threatexchange dataset -P` outputs
                                      (CSV, plain, one type) of its sample collab, and state
                                      files written by its HMA 1.x and CLI serializations
    python formats.py read IN_DIR     reads our exports in IN_DIR with pytx's readers and prints
                                      one JSON object of what each gave

Run with the venv of scripts/pytx-venv.
"""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from threatexchange.cli.dataset.simple_serialization import (
    CliIndicatorSerialization,
    HMASerialization,
)
from threatexchange.exchanges.clients.fb_threatexchange.descriptor import (
    SimpleDescriptorRollup,
)
from threatexchange.exchanges.clients.techagainstterrorism import api as tat
from threatexchange.exchanges.impl.file_api import (
    FileCollaborationConfig,
    LocalFileSignalExchangeAPI,
)
from threatexchange.signal_type.md5 import VideoMD5Signal
from threatexchange.signal_type.pdq.signal import PdqSignal
from threatexchange.signal_type.raw_text import RawTextSignal
from threatexchange.signal_type.sha256 import VideoSHA256Signal
from threatexchange.signal_type.url import URLSignal
from threatexchange.signal_type.url_md5 import UrlMD5Signal

SIGNAL_TYPES = {
    s.get_name(): s
    for s in (PdqSignal, VideoMD5Signal, VideoSHA256Signal, URLSignal, UrlMD5Signal, RawTextSignal)
}


def cli(state, *args):
    exe = Path(sys.executable).with_name("threatexchange")
    env = dict(os.environ, TX_STATEDIR=str(state))
    out = subprocess.run([str(exe), *args], env=env, check=True, capture_output=True)
    return out.stdout


def write(out):
    state = out / "txstate"
    cli(state, "fetch")
    (out / "dataset.csv").write_bytes(cli(state, "dataset", "-P", "--csv"))
    (out / "dataset.txt").write_bytes(cli(state, "dataset", "-P"))
    (out / "dataset-pdq.txt").write_bytes(cli(state, "dataset", "-P", "-s", "pdq"))
    (out / "dataset-signals-only.txt").write_bytes(
        cli(state, "dataset", "-P", "--print-signals-only")
    )
    hma = out / "hma"
    hma.mkdir()
    pdq = PdqSignal.get_examples()
    HMASerialization.store(hma, [
        HMASerialization(pdq[0], "HASH_PDQ", "1001", SimpleDescriptorRollup(2001, "2024-01-02", {"tag1", "tag2"})),
        HMASerialization(pdq[1], "HASH_PDQ", "1002", SimpleDescriptorRollup(2002, "mine", set())),
        HMASerialization("d41d8cd98f00b204e9800998ecf8427e", "HASH_VIDEO_MD5", "1003",
                         SimpleDescriptorRollup(2003, "2024-01-03", {"violent"})),
    ])
    cli_dir = out / "cli"
    cli_dir.mkdir()
    CliIndicatorSerialization.store(cli_dir, [
        CliIndicatorSerialization("HASH_PDQ", pdq[2], SimpleDescriptorRollup(3001, "2024-02-02", {"a"})),
    ])


def read(inp):
    result = {}
    # Plain: pytx's local-file exchange, exactly as `threatexchange fetch` reads a file collab.
    api = LocalFileSignalExchangeAPI(
        FileCollaborationConfig(name="ours", filename=str(inp / "export.txt"), signal_type=None)
    )
    plain = []
    for delta in api.fetch_iter([], None):
        for (signal_type, signal) in delta.updates:
            SIGNAL_TYPES[signal_type].validate_signal_str(signal)
            plain.append([signal_type, signal])
    result["plain"] = sorted(plain)
    # CSV: the columns `threatexchange dataset -P --csv` writes, read with Python's csv module
    # (newline="" as the csv docs require), tags split on spaces as pytx joins them.
    with open(inp / "export.csv", newline="", encoding="utf-8") as f:
        raw = f.read()
    with open(inp / "export.csv", newline="", encoding="utf-8") as f:
        rows = []
        for row in csv.DictReader(f):
            SIGNAL_TYPES[row["signal_type"]].validate_signal_str(row["signal_str"])
            rows.append([row["signal_type"], row["signal_str"], row["collab"], row["category"],
                         sorted(t for t in row["tags"].split(" ") if t)])
    result["csv"] = sorted(rows)
    result["csv_crlf"] = raw.count("\r\n") == raw.count("\n")
    # TAT: the page as pytx's TAT client builds it from the JSON.
    page = json.loads((inp / "export-tat.json").read_text())
    response = tat.TATHashListResponse(
        count=page["count"], next=page["next"], previous=page["previous"],
        checkpoint=page["checkpoint"],
        results=[tat.TATHashListEntry(**entry) for entry in page["results"]],
    )
    result["tat"] = {
        "checkpoint": response.checkpoint,
        "results": [[e.algorithm, e.hash_digest, e.id, e.updated_on] for e in response.results],
    }
    # HMA 1.x state files.
    result["hma"] = sorted(
        [s.indicator_type, s.indicator, s.indicator_id, s.rollup.first_descriptor_id,
         s.rollup.added_on, sorted(s.rollup.labels)]
        for s in HMASerialization.load(inp / "hma")
    )
    print(json.dumps(result))


if __name__ == "__main__":
    {"write": write, "read": read}[sys.argv[1]](Path(sys.argv[2]))
