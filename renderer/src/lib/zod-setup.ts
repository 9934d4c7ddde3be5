// zod compiles fast parsers with `new Function` unless told not to; our CSP forbids eval, so turn that off before
// any schema runs (otherwise every page load reports a CSP violation).
import { z } from 'zod';

z.config({ jitless: true });
