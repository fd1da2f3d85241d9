// The engine command as a child in its own process group, so that signals
// reach everything it started and nothing it started outlives westream.
import { spawn } from 'node:child_process';

import { ProcessGroup } from '../core/process-group.js';

export { describeExit, exitStatus, type EngineExit } from '../core/process-group.js';

export class EngineProcess extends ProcessGroup {
  constructor(command: string, args: string[], env: NodeJS.ProcessEnv) {
    // detached: the child leads a new process group (and session).
    super(spawn(command, args, { stdio: 'inherit', detached: true, env }));
  }
}
