/**
 * The MIME renderer for ``application/vnd.modelbook.v1+json``: draws every modelbook result from
 * the saved output data, so a notebook opened without a kernel (or papermill's output) shows
 * the interactive report.
 */

import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';

import { MIME_TYPE, renderBundle } from './views';

export class ModelbookRenderer extends Widget implements IRenderMime.IRenderer {
  constructor(options: IRenderMime.IRendererOptions) {
    super();
    this._mimeType = options.mimeType;
    this.addClass('jp-RenderedModelbook');
    this.addClass('mb-root');
  }

  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const data = model.data[this._mimeType];
    this.node.replaceChildren(renderBundle(data));
    return Promise.resolve();
  }

  private _mimeType: string;
}

export const rendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [MIME_TYPE],
  createRenderer: options => new ModelbookRenderer(options)
};

const extension: IRenderMime.IExtension = {
  id: 'modelbook:renderer',
  description: 'Renders modelbook results (versions, monitor reports, diffs, history).',
  rendererFactory,
  // Below the HTML renderer's rank (50), so ours wins over the text/html fallback.
  rank: 0,
  dataType: 'json'
};

export default extension;
