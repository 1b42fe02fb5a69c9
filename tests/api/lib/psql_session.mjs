// One long-lived psql process for tests that query the database after
// every step: a query costs a round trip, not a process start.
import { spawn } from 'node:child_process';

export function psqlSession(conninfo) {
  const p = spawn('psql', [conninfo, '-qAtX', '-v', 'ON_ERROR_STOP=0'], { stdio: ['pipe', 'pipe', 'pipe'] });
  p.stdout.setEncoding('utf8');
  p.stderr.setEncoding('utf8');
  let buf = '';
  let errs = '';
  let waiting = null;
  const MARK = '__certdeploy_end__';
  p.stdout.on('data', (d) => {
    buf += d;
    const i = buf.indexOf(MARK + '\n');
    if (i >= 0 && waiting) {
      const out = buf.slice(0, i);
      buf = buf.slice(i + MARK.length + 1);
      const w = waiting;
      waiting = null;
      if (errs) { const e = errs; errs = ''; w.reject(new Error(e)); } else w.resolve(out.replace(/\n$/, ''));
    }
  });
  p.stderr.on('data', (d) => { errs += d; });
  let chain = Promise.resolve();
  return {
    /** Runs one statement; resolves its unaligned output. */
    query(sql) {
      const run = () => new Promise((resolve, reject) => {
        waiting = { resolve, reject };
        p.stdin.write(`${sql.replace(/;\s*$/, '')};\n\\echo ${MARK}\n`);
      });
      const r = chain.then(run, run);
      chain = r.catch(() => {});
      return r;
    },
    close() { p.stdin.end(); },
  };
}
