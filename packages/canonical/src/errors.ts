/**
 * Why a value has no canonical form, and where in it the problem is.
 */
import { SynodError, registerErrors } from '@synod/errors';

/** What made a value unencodable (for code that wants to tell the cases apart). */
export type CanonicalProblem = 'unsupported-type' | 'class-instance' | 'cycle' | 'too-deep' | 'too-large' | 'unpaired-surrogate' | 'duplicate-key' | 'corrupt';

/**
 * A value that cannot be encoded canonically (a function, a class instance, a cycle, too deep or
 * too large), or bytes that are not a canonical encoding. `path` names the place in the value,
 * as `$` for the root, `$.a[3]` for an element inside it.
 */
export class CanonicalError extends SynodError {
  override name = 'CanonicalError';
  override readonly code: string = 'not-canonical';
  constructor(
    readonly problem: CanonicalProblem,
    readonly path: string,
    detail: string,
  ) {
    super(path === '' ? detail : `${detail} (at ${path})`);
  }
}

registerErrors({ CanonicalError });
