#!/usr/bin/env node
// The `ws-file-upload-server` command. A file of its own rather than dist/server/cli.js, so that npm links the
// command in a fresh clone of this repository too, where dist/ does not exist until the first build.
import '../dist/server/cli.js';
