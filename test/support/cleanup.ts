// Vitest setup file: the temporary directories a test file made with
// tmpdir() go when it ends (runs after the file's own afterAll hooks).
import { afterAll } from 'vitest';

import { removeTmpdirs } from './helpers.js';

afterAll(() => removeTmpdirs());
