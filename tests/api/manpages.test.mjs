// The man pages in man/ against the binaries they describe: every long flag
// that `<binary> --help` prints is in the page (written `\-\-flag`, as
// man-pages does, so that it renders as ASCII hyphens users can paste);
// every flag the page's SYNOPSIS and OPTIONS offer exists; certdeployd's
// options carry the environment variable and default of its settings
// table; the mock CA's control endpoints are all there; `--version` prints
// `<name> <version>`; and groff formats each page without a warning.
//
// Run: node --test tests/api/manpages.test.mjs (no database). Binaries come
// from $CERTDEPLOY_BUILD (default build/), pages from $CERTDEPLOY_MAN_DIR
// (default man/; lets a check of this test point it at a doctored copy).
// Needs groff (Debian: groff-base, in the test layer of scripts/install-deps.sh).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUILD = resolve(ROOT, process.env.CERTDEPLOY_BUILD || 'build');
const MAN = resolve(ROOT, process.env.CERTDEPLOY_MAN_DIR || 'man');

const PAGES = [
  { name: 'certdeployd', section: '8' },
  { name: 'certdeploy-agent', section: '1' },
  { name: 'certdeploy-mockca', section: '1' },
  { name: 'certdeployctl', section: '1' },
];

const pagePath = (p) => join(MAN, `${p.name}.${p.section}`);

function run(p, args) {
  const r = spawnSync(join(BUILD, p.name), args, { encoding: 'utf8', timeout: 20000 });
  if (r.error) throw new Error(`cannot run ${join(BUILD, p.name)}: ${r.error.message} (make all?)`);
  return r;
}

function helpText(p) {
  const r = run(p, ['--help']);
  assert.equal(r.status, 0, `${p.name} --help exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** The long flags a text mentions, without the dashes, in order of appearance. */
function longFlags(text) {
  const flags = new Set();
  for (const m of text.matchAll(/(?<![\w-])--([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)/g)) flags.add(m[1]);
  return [...flags];
}

/** The page's roff source without comments (a flag named only in a comment is not documented). */
function source(p) {
  return readFileSync(pagePath(p), 'utf8')
    .split('\n')
    .filter((line) => !/^\.\s*\\"/.test(line) && !line.startsWith('\\"'))
    .map((line) => line.replace(/\\".*$/, ''))
    .join('\n');
}

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** `state-dir` as man-pages writes it: \-\-state\-dir. */
const roffFlag = (flag) => `\\-\\-${flag.replace(/-/g, '\\-')}`;
/** Matches the flag and not a longer one that starts with it (--tls in --tls-cert). */
const flagRe = (flag, extra = '') => new RegExp(`${escapeRe(roffFlag(flag))}(?![a-z0-9]|\\\\-[a-z0-9])`, extra);

/** Lines of one .SH section (name in upper case), up to the next .SH. */
function section(src, name) {
  const lines = src.split('\n');
  const start = lines.findIndex((l) => new RegExp(`^\\.SH\\s+"?${escapeRe(name)}"?\\s*$`).test(l));
  if (start < 0) return [];
  const end = lines.findIndex((l, i) => i > start && /^\.SH\b/.test(l));
  return lines.slice(start + 1, end < 0 ? lines.length : end);
}

/** The arguments of a macro line, with roff's double-quote rules. */
function macroArgs(rest) {
  const args = [];
  const re = /"((?:[^"]|"")*)"?|(\S+)/g;
  for (const m of rest.matchAll(re)) args.push(m[1] !== undefined ? m[1].replace(/""/g, '"') : m[2]);
  return args;
}

/** Roff lines to the plain text a reader sees (close enough to compare words). */
function roffText(lines) {
  const out = [];
  for (const line of lines) {
    const m = /^\.(\w+)\s*(.*)$/.exec(line);
    if (!m) out.push(line);
    else if (['B', 'I', 'SM', 'SB'].includes(m[1])) out.push(macroArgs(m[2]).join(' '));
    else if (['BR', 'RB', 'BI', 'IB', 'IR', 'RI'].includes(m[1])) out.push(macroArgs(m[2]).join(''));
    else out.push(' ');
  }
  return out.join(' ')
    .replace(/\\f(\[[^\]]*\]|\(..|.)/g, '')
    .replace(/\\\((aq)/g, "'")
    .replace(/\\\((dq|lq|rq)/g, '"')
    .replace(/\\[&:%|^]/g, '')
    .replace(/\\[~ ]/g, ' ')
    .replace(/\\-/g, '-')
    .replace(/\\e/g, '\\')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The .TP entries whose tag names the flag: { tag, body } as plain text. */
function optionEntries(lines, flag) {
  const entries = [];
  const re = flagRe(flag);
  for (let i = 0; i < lines.length - 1; i++) {
    if (!/^\.TP\b/.test(lines[i]) || !/^\.\w+\s/.test(lines[i + 1]) || !re.test(lines[i + 1])) continue;
    let end = i + 2;
    while (end < lines.length && !/^\.(TP|SH|SS)\b/.test(lines[end])) end++;
    entries.push({ tag: roffText([lines[i + 1]]), body: roffText(lines.slice(i + 2, end)) });
  }
  return entries;
}

/** The tag lines (the line after .TP or .TQ) of some lines. */
const tagLines = (lines) => lines.filter((l, i) => i > 0 && /^\.T[PQ]\b/.test(lines[i - 1]));

/** Flags the page offers: in SYNOPSIS, and in the tags of OPTIONS. */
function offeredFlags(src) {
  return longFlags(roffText([...section(src, 'SYNOPSIS'), ...tagLines(section(src, 'OPTIONS'))]));
}

function groffAvailable() {
  const r = spawnSync('groff', ['--version'], { encoding: 'utf8' });
  return !r.error && r.status === 0;
}

for (const p of PAGES) {
  test(`${p.name} --help: every long flag is in man/${p.name}.${p.section}`, () => {
    const flags = longFlags(helpText(p));
    assert.ok(flags.length > 0, `${p.name} --help printed no --flag at all; is the parser out of date?`);
    const src = source(p);
    const missing = flags.filter((f) => !flagRe(f).test(src));
    assert.deepEqual(missing, [],
      `man/${p.name}.${p.section} does not document ${missing.map((f) => `--${f}`).join(', ')} ` +
      `(write it as ${missing.map(roffFlag).join(', ')})`);
    // named in passing is not documented: each flag has its own .TP entry in OPTIONS
    const tags = tagLines(section(src, 'OPTIONS')).join('\n');
    const noEntry = flags.filter((f) => !flagRe(f).test(tags));
    assert.deepEqual(noEntry, [],
      `man/${p.name}.${p.section} has no .TP entry in OPTIONS for ${noEntry.map((f) => `--${f}`).join(', ')}`);
  });

  test(`man/${p.name}.${p.section} offers only flags that ${p.name} has`, () => {
    const help = new Set(longFlags(helpText(p)));
    const src = source(p);
    const unknown = offeredFlags(src).filter((f) => !help.has(f));
    assert.deepEqual(unknown, [],
      `man/${p.name}.${p.section} documents ${unknown.map((f) => `--${f}`).join(', ')}, ` +
      `which ${p.name} --help does not know`);
  });

  test(`man/${p.name}.${p.section} is plain ASCII roff of the classic man macros, flags written \\-\\-`, () => {
    const raw = readFileSync(pagePath(p), 'utf8');
    const src = source(p);
    assert.match(raw, new RegExp(`^(?:\\.\\\\".*\\n)*\\.TH ${escapeRe(p.name.toUpperCase().replace(/-/g, '\\-'))} ${p.section} `),
      `the page must start (after comments) with .TH ${p.name.toUpperCase()} ${p.section}`);
    assert.doesNotMatch(raw, /^\.(Dd|Dt|Os|Nm|Sh)\b/m, 'mdoc macros: write man(7), not mdoc(7)');
    const nonAscii = [...raw].filter((c) => c.charCodeAt(0) > 126 || (c.charCodeAt(0) < 32 && c !== '\n'));
    assert.deepEqual(nonAscii, [], 'non-ASCII characters: use roff escapes such as \\(em');
    const bare = src.split('\n').filter((l) => /(^|[^\\])--[a-z]/.test(l) || /\\-\\-[a-z0-9]+(?:\\-[a-z0-9]+)*-[a-z]/.test(l));
    assert.deepEqual(bare, [], 'write flags with \\- for every hyphen (\\-\\-state\\-dir)');
    for (const name of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'OPTIONS', 'EXIT STATUS', 'SEE ALSO']) {
      assert.ok(section(src, name).length > 0, `no .SH ${name}`);
    }
  });

  test(`${p.name}: every command of --help is in man/${p.name}.${p.section}`, () => {
    // "  serve    apply ..." (certdeployd), "  checkin [--loop ..." (agent)
    const commands = [...helpText(p).matchAll(/^ {2}([a-z][a-z-]*)(?= {2,}\S| --| \[)/gm)].map((m) => m[1]);
    const src = source(p);
    const bold = (c) => new RegExp(`^\\.(?:B|BR|RB|BI|IB)\\s(?:.*[\\s"\\[])?${escapeRe(c)}(?=[\\s"\\]]|$)|\\\\fB${escapeRe(c)}\\b`, 'm');
    const missing = commands.filter((c) => !bold(c).test(src));
    assert.deepEqual(missing, [], `man/${p.name}.${p.section} does not show the command(s) ${missing.join(', ')} in bold`);
  });

  test(`${p.name} --version prints "${p.name} <version>", as the page says`, () => {
    assert.match(source(p), flagRe('version'), `man/${p.name}.${p.section} must document --version`);
    const r = run(p, ['--version']);
    assert.equal(r.status, 0, `${p.name} --version exited ${r.status}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^${escapeRe(p.name)} \\S+\\n$`));
  });

  test(`groff formats man/${p.name}.${p.section} without a warning`, () => {
    assert.ok(groffAvailable(), 'groff is missing: scripts/install-deps.sh test installs groff-base');
    // nroff output at man's usual width: "can't break line" shows up only there
    for (const args of [['-man', '-Tutf8', '-ww', '-z'], ['-man', '-Tps', '-ww', '-z']]) {
      const r = spawnSync('groff', [...args, pagePath(p)], { encoding: 'utf8' });
      assert.equal(r.status, 0, `groff ${args.join(' ')} exited ${r.status}`);
      assert.equal(r.stderr, '', `groff ${args.join(' ')} ${pagePath(p)}:\n${r.stderr}`);
    }
  });
}

test('certdeployd(8): each option names its environment variable and default, as --help does', () => {
  const p = PAGES[0];
  const settings = [...helpText(p).matchAll(/^ {2}--([a-z0-9-]+)\s+(CERTDEPLOY_[A-Z0-9_]+)\n\s+.*\(default: (.*)\)$/gm)]
    .map((m) => ({ flag: m[1], env: m[2], def: m[3] }));
  assert.ok(settings.length >= 20, `found ${settings.length} settings in certdeployd --help; is the parser out of date?`);
  const src = source(p);
  const options = section(src, 'OPTIONS');
  const environment = roffText(section(src, 'ENVIRONMENT'));
  const problems = [];
  for (const s of settings) {
    const entries = optionEntries(options, s.flag);
    if (entries.length !== 1) {
      problems.push(`--${s.flag}: ${entries.length} entries in OPTIONS, want 1`);
      continue;
    }
    const { body } = entries[0];
    if (!new RegExp(`Environment: ${s.env}(?![A-Z0-9_])`).test(body)) problems.push(`--${s.flag}: no "Environment: ${s.env}"`);
    if (!new RegExp(`Default: ${escapeRe(s.def)}(?=[.;,)]?(\\s|$))`).test(body)) problems.push(`--${s.flag}: no "Default: ${s.def}"`);
    if (!new RegExp(`(^|\\s)${s.env}(?![A-Z0-9_])`).test(environment)) problems.push(`${s.env}: not in ENVIRONMENT`);
  }
  assert.deepEqual(problems, []);
});

test('certdeploy-mockca(1): every endpoint of --help is in the page', () => {
  const p = PAGES[2];
  const endpoints = new Set(helpText(p).match(/\/(?:_mock|mpki)\/[A-Za-z0-9_./{}-]*[A-Za-z0-9_}]/g));
  assert.ok(endpoints.size >= 8, `found ${endpoints.size} endpoints in certdeploy-mockca --help`);
  // each has a .TP entry (an example's curl does not count); {id} in
  // --help is \fIid\fP in the page
  const tags = tagLines(source(p).split('\n')).map((l) => roffText([l]).replace(/\{id\}|\bid\b/g, 'ID'));
  const missing = [...endpoints].filter((e) =>
    !tags.some((t) => new RegExp(`${escapeRe(e.replace('{id}', 'ID'))}(?![\\w./-])`).test(t)));
  assert.deepEqual(missing, [], `man/certdeploy-mockca.1 has no .TP entry for ${missing.join(', ')}`);
});
