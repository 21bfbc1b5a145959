#!/usr/bin/env -S node --max-semi-space-size=64
// A larger young generation: rows decoded and waiting for their insert die young instead of being
// copied twice and promoted, which takes CPU off the ingest's main thread (see bench/ingest).
// bench/nodeFlags.ts reads the flags from this line, so benchmarks run Node as `choir` does.
import '../dist/cli/main.js';
