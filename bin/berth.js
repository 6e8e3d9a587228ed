#!/usr/bin/env node
// The berth CLI. tsx is registered first so that job files (TypeScript) and berth's own sources load as-is.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
