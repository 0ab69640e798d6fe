import type { HttpResponseInit } from '@azure/functions';

/** RFC 9457 problem details with a stable machine-readable `code`. */
export interface Problem {
  status: number;
  code: string;
  title: string;
  detail?: string;
  [extra: string]: unknown;
}

export function problemResponse(problem: Problem): HttpResponseInit {
  return {
    status: problem.status,
    headers: { 'content-type': 'application/problem+json' },
    body: JSON.stringify({ type: `https://ringkeeper.dev/problems/${problem.code}`, ...problem }),
  };
}
