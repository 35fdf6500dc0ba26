/** Calls to the read-only REST API of the modelbook server extension. */

import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

export interface IEntry {
  name: string;
  kind: 'model' | 'dataset';
  versions: number;
  latest: number | null;
  aliases: Record<string, number>;
  updated_at: string | null;
  size_bytes: number | null;
  status: string | null;
  last_run: string | null;
}

export interface IEntries {
  registry: string;
  exists: boolean;
  entries: IEntry[];
}

export interface IVersion {
  version: number;
  aliases: string[];
  created_at: string | null;
  created_by: string | null;
  summary: string;
}

export interface IVersions {
  name: string;
  kind: string;
  versions: IVersion[];
}

export async function requestAPI<T>(path: string): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, 'modelbook', 'api', path);
  const response = await ServerConnection.makeRequest(url, {}, settings);
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const message = (body as { message?: string } | null)?.message ?? response.statusText;
    throw new Error(message || `request failed with status ${response.status}`);
  }
  return body as T;
}

export interface IRun {
  id: string;
  target: string;
  target_version: number;
  status: string;
  started_at: string;
  n_alerts: number;
}

export const api = {
  entries: () => requestAPI<IEntries>('entries'),
  versions: (name: string) => requestAPI<IVersions>(`entries/${encodeURIComponent(name)}/versions`),
  details: (name: string, version: number) =>
    requestAPI<unknown>(`entries/${encodeURIComponent(name)}/versions/${version}`),
  runs: (target: string, version: number, limit = 1) =>
    requestAPI<{ runs: IRun[] }>(
      `runs?target=${encodeURIComponent(target)}&version=${version}&limit=${limit}`
    ),
  run: (id: string) => requestAPI<unknown>(`runs/${encodeURIComponent(id)}`)
};
