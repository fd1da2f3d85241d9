// One measurement of fromTrajectory over a finished file: the user's path
// (read + native decode + a Frame per frame into an RxJS pipeline).
//   node node_decode.mjs FILE REPS  ->  {"frames", "seconds"} of the fastest pass
import { lastValueFrom, count } from 'rxjs';

import { fromTrajectory } from '../../dist/index.js';

const [file, reps] = [process.argv[2], Number(process.argv[3] ?? 3)];
let best = Infinity;
let frames = 0;
for (let r = 0; r < reps; r++) {
  const t0 = process.hrtime.bigint();
  frames = await lastValueFrom(fromTrajectory(file).pipe(count()));
  best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
}
console.log(JSON.stringify({ frames, seconds: best }));
