#!/usr/bin/env node
// The berth CLI: the built package (dist/). berth's own code is plain JavaScript; job and subscriber files
// are bundled with esbuild when a command loads them, so no TypeScript hook is registered here.
import '../dist/cli/main.js';
