#!/usr/bin/env python3
"""Where a profiled `quiver` process spent its CPU, by kind of work: reads `perf report` of a `perf record` file
(e.g. from `QUIVER_BENCH_PERF=DIR quiver-bench hub`) and sums the samples of every symbol into the categories
issue 15 asks about (hash, codec, fsync, SQLite, HTTP) and the others that show up.

    perf_categories.py DIR/pull-0.data

Prints a Markdown table: category, share of the samples, the largest symbols in it.
"""

import re
import subprocess
import sys
from collections import defaultdict

# First match wins: (category, pattern on "dso symbol").
CATEGORIES = [
    ("fsync", r"fsync|ext4_sync_file|jbd2|blkdev_issue_flush|file_write_and_wait|__filemap_fdatawait"),
    ("hash (SHA-256)", r"sha256|SHA256|OpenSSLDigest|DigestHasher|libcrypto"),
    ("codec (zstd, deflate, float formats)", r"zstd|ZSTD|inflate|deflate|QuiverCodec|libz\.so|libzstd"),
    ("SQLite (and GRDB)", r"libsqlite3|GRDB|sqlite3"),
    ("JSON", r"JSON|StrictJSON|JSONParser|JSONDecoder|JSONEncoder|Codable|KeyedDecodingContainer"),
    ("HTTP (AsyncHTTPClient, NIO, TCP)", r"AsyncHTTPClient|NIO|llhttp|\b_*tcp_|\bip_|skb|\bsock_|\bsk_|\bnet_|\binet_|\bnf_|napi|loopback|\b__dev_|epoll|ep_poll"),
    ("files (create, rename, read, write)", r"ext4_|vfs_|do_sys_open|path_|dentry|inode|d_alloc|link_path_walk|filemap_|copy_page|__x64_sys_(rename|open|unlink|write|read|newfstat|statx)|recently_deleted|find_inode_bit|generic_perform_write|find_get_block|__getblk|__find_get_block|mark_buffer|__brelse"),
    ("memory (malloc, page faults, zeroing)", r"malloc|free|_int_|clear_page|do_anonymous_page|handle_mm_fault|page_fault|mmap|munmap|memset|memcpy|memmove|folio|alloc_pages|kmem_cache"),
    ("Swift runtime (refcounts, generics, dictionaries)", r"swift_|libswiftCore|_swift|Dictionary|Hash|_NativeSet|_NativeDictionary|ContiguousArray"),
    ("threads and scheduling", r"futex|schedule|pthread|dispatch|__switch_to|finish_task_switch|swift::runJob|try_to_wake_up|sem_"),
    ("Quiver (decode, verify, catalog logic)", r"Quiver"),
]


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    report = subprocess.run(
        ["perf", "report", "-i", sys.argv[1], "--no-children", "--sort", "dso,symbol", "-g", "none", "--stdio",
         "--percent-limit", "0"],
        capture_output=True, text=True, check=True).stdout
    totals, symbols = defaultdict(float), defaultdict(list)
    for line in report.splitlines():
        match = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[[.k]\]\s+(.*?)(\s{2,}|$)", line)
        if not match:
            continue
        share, dso, symbol = float(match.group(1)), match.group(2), match.group(3).strip()
        text = dso + " " + symbol
        category = next((name for name, pattern in CATEGORIES if re.search(pattern, text)), "other")
        totals[category] += share
        symbols[category].append((share, symbol[:70]))
    print("| category | share of the client's CPU | largest symbols |")
    print("|---|---|---|")
    for category, share in sorted(totals.items(), key=lambda item: -item[1]):
        largest = ", ".join(f"{name} {value:.1f} %" for value, name in sorted(symbols[category], reverse=True)[:3])
        print(f"| {category} | {share:.1f} % | {largest} |")


if __name__ == "__main__":
    main()
