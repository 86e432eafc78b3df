#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The full-screen view's cost (part of make bench; prints Markdown): update and redraw
# time and CPU per second with 100,000 flows in the table, from synthetic reports fed to
# the sink (build/tuibench), on a 200x50 terminal whose output is thrown away.
set -u
cd "$(dirname "$0")/.."
echo
echo "## Full-screen view"
echo
echo "100,000 flows in the table (50,000 connections, both directions, six users), every one with a delta in every report (the worst case), 20 reports on a 200x50 terminal: the time one report takes in the sink (pairing, per-user totals, 2/10/40 s rates, rows built and sorted, the screen drawn), and the CPU that makes at the default --interval 1. The users view still updates every connection; it only draws fewer rows."
echo
build/tuibench 100000 20 || exit 1
