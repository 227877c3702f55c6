/**
 * Object keys with `.` or `..` path segments are refused everywhere (API, events, storage
 * adapter), as MinIO refuses them: a store that maps keys onto a filesystem (the embedded
 * s3rver does) would resolve them outside the bucket, and `a/../b` and `b` are two names for what
 * a person reads as one object.
 */
export function hasDotSegment(key: string): boolean {
  return key.split('/').some((segment) => segment === '.' || segment === '..');
}

export const DOT_SEGMENT_MESSAGE = 'a key without "." or ".." path segments';
