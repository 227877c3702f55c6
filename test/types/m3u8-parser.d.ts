/** The part of m3u8-parser (no bundled types) that the HLS tests read. */
declare module 'm3u8-parser' {
  export interface ParsedSegment {
    uri: string;
    duration: number;
  }
  export interface ParsedPlaylist {
    uri: string;
    attributes: Record<string, unknown> & {
      BANDWIDTH?: number;
      RESOLUTION?: { width: number; height: number };
      CODECS?: string;
    };
  }
  export interface Manifest {
    playlists?: ParsedPlaylist[];
    segments: ParsedSegment[];
    targetDuration?: number;
    endList?: boolean;
    independentSegments?: boolean;
  }
  export class Parser {
    manifest: Manifest;
    push(chunk: string): void;
    end(): void;
  }
}
