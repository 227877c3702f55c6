/**
 * Filters that turn a decoded picture upright. Decoding always runs with `-noautorotate` and these
 * filters instead: stream-copied segments lose the display matrix (NUT cannot carry it), so
 * relying on ffmpeg's autorotate would rotate the whole-file path but not the split path.
 */
export function rotationFilters(rotation: 0 | 90 | 180 | 270): string[] {
  switch (rotation) {
    case 90:
      return ['transpose=clock'];
    case 180:
      return ['hflip', 'vflip'];
    case 270:
      return ['transpose=cclock'];
    default:
      return [];
  }
}
