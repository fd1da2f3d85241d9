// `westream doctor`: can westream work on this node, and with what? One line
// per check as it completes; exit status 1 when something it needs fails.
import { doctorChecks, type CheckResult, type DoctorOptions } from '../doctor/index.js';

export interface DoctorCliOptions extends DoctorOptions {
  json?: boolean;
}

const MARK = { ok: 'ok  ', warn: 'warn', fail: 'FAIL', info: '--  ' } as const;

export async function doctor(options: DoctorCliOptions): Promise<number> {
  const results: CheckResult[] = [];
  for await (const r of doctorChecks(options)) {
    results.push(r);
    if (options.json) continue;
    process.stdout.write(`${MARK[r.status]}  ${r.name.padEnd(18)} ${r.detail}\n`);
    if (r.hint && r.status !== 'ok') process.stdout.write(`${' '.repeat(25)}→ ${r.hint}\n`);
  }
  const count = (s: CheckResult['status']) => results.filter((r) => r.status === s).length;
  const failed = count('fail');
  if (options.json) process.stdout.write(JSON.stringify({ ok: failed === 0, checks: results }, null, 2) + '\n');
  else process.stdout.write(`\n${count('ok')} ok, ${count('warn')} warnings, ${failed} failed${failed ? ': fix the FAIL lines before running segments here' : ''}\n`);
  return failed ? 1 : 0;
}
