// Runs the user's JavaScript `main` inside the sandbox (Node.js, no dependencies).
//
// Reads {"code": string, "inputs": object} as JSON on stdin, runs the code as a
// script named code.js, calls `main(inputs)` (awaiting a promise) and writes one
// JSON message on fd 3, the same protocol as runner.py: {"ok": true, "result": {...}}
// or {"ok": false, "kind", "type", "message", "line"}.
'use strict';

const fs = require('fs');
const vm = require('vm');

const RESULT_FD = 3;
const FILENAME = 'code.js';
const MAX_MESSAGE = 2000;
let reported = false;

function send(text) {
  reported = true;
  const data = Buffer.from(text, 'utf8');
  let offset = 0;
  while (offset < data.length) {
    offset += fs.writeSync(RESULT_FD, data, offset, data.length - offset);
  }
}

function lineOf(err) {
  const match = /code\.js:(\d+)/.exec(String(err && err.stack));
  return match ? Number(match[1]) : null;
}

function kindOf(err) {
  const code = err && err.code;
  if (code === 'EAGAIN') return 'processes';
  if (code === 'EFBIG' || code === 'ENOSPC' || code === 'EDQUOT') return 'file_size';
  if (err instanceof RangeError && /allocation failed|out of memory/i.test(err.message)) {
    return 'memory';
  }
  return 'exception';
}

function failure(kind, err) {
  const isError = err instanceof Error;
  return JSON.stringify({
    ok: false,
    kind,
    type: isError ? err.name : typeof err,
    message: String(isError ? err.message : err).slice(0, MAX_MESSAGE),
    line: lineOf(err),
  });
}

function invalid(message) {
  return JSON.stringify({ ok: false, kind: 'result', type: null, message, line: null });
}

function finiteOnly(key, value) {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new TypeError(`${value} is not allowed in JSON (key "${key}")`);
  }
  return value;
}

async function call(code, inputs) {
  let script;
  try {
    script = new vm.Script(code, { filename: FILENAME });
  } catch (err) {
    return failure('syntax', err);
  }
  let main;
  let result;
  try {
    globalThis.require = require;
    script.runInThisContext();
    main = vm.runInThisContext('typeof main === "function" ? main : undefined');
    if (typeof main !== 'function') {
      return JSON.stringify({
        ok: false,
        kind: 'main_missing',
        type: null,
        message: 'the code does not define a function main(inputs)',
        line: null,
      });
    }
    result = await main(inputs);
  } catch (err) {
    return failure(kindOf(err), err);
  }
  if (result === null || typeof result !== 'object' || Array.isArray(result)) {
    const got = result === null ? 'null' : Array.isArray(result) ? 'array' : typeof result;
    return invalid(`main() must return an object, got ${got}`);
  }
  try {
    return `{"ok": true, "result": ${JSON.stringify(result, finiteOnly)}}`;
  } catch (err) {
    return invalid(`main() returned an object that is not JSON: ${err.message}`);
  }
}

process.on('uncaughtException', (err) => {
  if (!reported) send(failure(kindOf(err), err));
  process.exit(1);
});

const payload = JSON.parse(fs.readFileSync(0, 'utf8'));
call(payload.code, payload.inputs).then((message) => {
  send(message);
  process.exit(0); // do not wait for timers the code left behind
});
