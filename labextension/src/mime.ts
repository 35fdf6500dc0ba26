/**
 * The MIME renderer for ``application/vnd.modelbook.v1+json``: draws every modelbook result from
 * the saved output data, so a notebook opened without a kernel (or papermill's output) shows
 * the interactive report.
 *
 * A result shown live as a widget carries our MIME type too, next to the widget view
 * (``application/vnd.jupyter.widget-view+json``). JupyterLab picks one renderer per output:
 * the lowest rank among the types present (the widget manager registers at -10). Ours is
 * ranked below it, so it is always picked for our bundles, and it hands the output over to the
 * widget view while that widget is alive: the notebook is trusted, its kernel holds the
 * widget's comm (the kernel is asked, as the widget manager does when it restores widgets).
 * Otherwise (a saved notebook reopened, a restarted or missing kernel, an untrusted file) it
 * draws the report from the saved data, instead of "Error displaying widget: model not found".
 */

import type { ISessionContext } from '@jupyterlab/apputils';
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import type { Kernel } from '@jupyterlab/services';
import { Panel, Widget } from '@lumino/widgets';

import { MIME_TYPE, renderBundle } from './views';

export const WIDGET_VIEW_MIME = 'application/vnd.jupyter.widget-view+json';
/** Below the widget manager's -10 and the HTML renderer's 50 (see the module comment). */
export const RANK = -20;

type Live = 'static' | 'checking' | 'widget';

export class ModelbookRenderer extends Panel implements IRenderMime.IRenderer {
  constructor(options: IRenderMime.IRendererOptions) {
    super();
    this._mimeType = options.mimeType;
    this.addClass('jp-RenderedModelbook');
    this.addClass('mb-root');
    this._view.addClass('mb-static-view');
    this.addWidget(this._view);
  }

  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const data = model.data[this._mimeType];
    this._view.node.replaceChildren(renderBundle(data));
    const view = model.data[WIDGET_VIEW_MIME] as { model_id?: unknown } | undefined;
    const modelId = view && typeof view.model_id === 'string' ? view.model_id : '';
    // Widgets run code: only a trusted output may show one (as JupyterLab's own choice would).
    this._widgetModel = model.trusted && modelId ? model : null;
    this._modelId = modelId;
    if (this._widget) {
      return this._widget.renderModel(model);
    }
    this.node.dataset.mbLive = 'static';
    if (this.isAttached) {
      void this._tryWidget();
    }
    return Promise.resolve();
  }

  protected onAfterAttach(): void {
    void this._tryWidget();
  }

  dispose(): void {
    this._disconnect();
    super.dispose();
  }

  /** Show the live widget view instead of the saved report, if its widget is alive. */
  private async _tryWidget(): Promise<void> {
    const model = this._widgetModel;
    if (!model || this._widget || this._checking) {
      return;
    }
    const rendermime = this._find<IRenderMimeRegistry>(w => {
      const r = (w as Partial<{ rendermime: IRenderMimeRegistry }>).rendermime;
      return r && typeof r.getFactory === 'function' && r.getFactory(WIDGET_VIEW_MIME) ? r : null;
    });
    const sessionContext = this._find<ISessionContext>(w => {
      const s = (w as Partial<{ sessionContext: ISessionContext }>).sessionContext;
      return s && s.statusChanged ? s : null;
    });
    const kernel = sessionContext?.session?.kernel;
    if (!rendermime || !sessionContext || !kernel) {
      return;
    }
    this._checking = true;
    this.node.dataset.mbLive = 'checking' satisfies Live;
    try {
      if (!(await hasWidget(kernel, this._modelId)) || this.isDisposed) {
        return;
      }
      if (sessionContext.session?.kernel !== kernel || model !== this._widgetModel) {
        return; // the kernel or the output changed while we asked
      }
      const widget = rendermime.createRenderer(WIDGET_VIEW_MIME);
      this._widget = widget;
      this._sessionContext = sessionContext;
      sessionContext.statusChanged.connect(this._onStatus, this);
      sessionContext.kernelChanged.connect(this._toStatic, this);
      widget.addClass('mb-live-view');
      this.addWidget(widget);
      this._view.hide();
      this.node.dataset.mbLive = 'widget' satisfies Live;
      await widget.renderModel(model);
    } catch (error) {
      console.warn('modelbook: showing the saved report, not the live widget:', error);
      this._toStatic();
    } finally {
      this._checking = false;
      if (this.node.dataset.mbLive === 'checking') {
        this.node.dataset.mbLive = 'static' satisfies Live;
      }
    }
  }

  private _onStatus(_: ISessionContext, status: Kernel.Status): void {
    if (status === 'restarting' || status === 'autorestarting' || status === 'dead') {
      this._toStatic();
    }
  }

  /** The widget's model is gone with its kernel: back to the report drawn from the data. */
  private _toStatic(): void {
    this._disconnect();
    const widget = this._widget;
    this._widget = null;
    this._widgetModel = null; // that widget will not come back
    if (widget && !widget.isDisposed) {
      widget.dispose();
    }
    this._view.show();
    this.node.dataset.mbLive = 'static' satisfies Live;
  }

  private _disconnect(): void {
    if (this._sessionContext) {
      this._sessionContext.statusChanged.disconnect(this._onStatus, this);
      this._sessionContext.kernelChanged.disconnect(this._toStatic, this);
      this._sessionContext = null;
    }
  }

  /** The first ancestor for which ``pick`` returns something (output area, notebook panel). */
  private _find<T>(pick: (w: Widget) => T | null | undefined): T | null {
    for (let w = this.parent; w; w = w.parent) {
      const found = pick(w);
      if (found) {
        return found;
      }
    }
    return null;
  }

  private _mimeType: string;
  private _view = new Widget();
  private _widget: IRenderMime.IRenderer | null = null;
  private _widgetModel: IRenderMime.IMimeModel | null = null;
  private _modelId = '';
  private _checking = false;
  private _sessionContext: ISessionContext | null = null;
}

/** Whether the kernel holds the comm of widget ``modelId`` (widget model ids are comm ids). */
async function hasWidget(kernel: Kernel.IKernelConnection, modelId: string): Promise<boolean> {
  const reply = await kernel.requestCommInfo({ target_name: 'jupyter.widget' });
  const content = reply.content;
  return content.status === 'ok' && modelId in content.comms;
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
  // Below the widget manager (-10) and the HTML renderer (50): see the module comment.
  rank: RANK,
  dataType: 'json'
};

export default extension;
