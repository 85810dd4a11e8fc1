// depth-video preview page: plain ES modules, no build step.
import { DEFAULT_D_MAX, DEFAULT_D_MIN, DEFAULT_FOV_DEG } from '/lib/unproject.js';
import { fineIndexValues, meshStep } from '/lib/depth-fine.js';
import { DepthView } from './view3d.js';

// The page's state stays in this closure.
(function () {
  const $ = (id) => document.getElementById(id);
  const inputCanvas = $('input-canvas');
  const depthCanvas = $('depth-canvas');
  const inputCtx = inputCanvas.getContext('2d');
  const depthCtx = depthCanvas.getContext('2d', { willReadFrequently: true });
  const settings = { colormap: 'inferno', invert: false, highContrast: false, layout: 'side-by-side' };
  let uploadLimit = 25 * 1024 * 1024;
  let ws = null;
  let rtt = 0;
  let decoding = false;
  let latestInput = null; // newest input picture not yet drawn: older ones are skipped
  let depth = null; // the last depth frame: colour-table indices, recoloured on a colour-map change
  let depthImage = null;
  const tables = {}; // colour-map name -> 768 bytes (RGB of index 0..255), from the hello
  let framesDrawn = 0;
  let lastStatsAt = 0;
  let latencyAvg = null;
  let recording = false;
  let ended = false;
  let live = false;
  // Files saved from an untrained (generated) model say so in their names: the page's banner does not travel with them.
  let liveUntrained = false;
  let photoUntrained = false;
  const untrainedMark = (untrained) => (untrained ? '-UNTRAINED' : '');
  let photoUploads = 0; // this page's uploads in flight

  // The 3D views share one camera model (controls below); each has its own orbit.
  const model3d = { dMin: DEFAULT_D_MIN, dMax: DEFAULT_D_MAX, fovDeg: DEFAULT_FOV_DEG, removePlane: false };
  $('d-min').value = String(DEFAULT_D_MIN);
  $('d-max').value = String(DEFAULT_D_MAX);
  $('fov').value = String(DEFAULT_FOV_DEG);
  $('fov-value').textContent = DEFAULT_FOV_DEG + '°';
  const views = { live: null, photo: null };
  let webgl = true;
  function view(name) {
    if (!views[name] && webgl) {
      try {
        views[name] = new DepthView($(name === 'live' ? 'view3d-canvas' : 'photo3d-canvas'), model3d);
      } catch (e) {
        // No WebGL (blocked, or no GPU and no software fallback): the 2D views still work.
        console.warn('preview: no 3D view', e);
        webgl = false;
        for (const f of document.querySelectorAll('.view3d')) f.hidden = true;
        $('view3d-controls').disabled = true;
      }
    }
    return views[name];
  }
  let lastView = 'live';

  function send(msg) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  }

  function setStatus(text, cls) {
    const s = $('status');
    s.textContent = text;
    s.className = 'status ' + (cls || '');
  }

  function applyState(render, schedule, rec) {
    Object.assign(settings, render);
    for (const b of document.querySelectorAll('[data-colormap]')) b.setAttribute('aria-pressed', String(b.dataset.colormap === settings.colormap));
    $('invert').checked = !!settings.invert;
    $('high-contrast').checked = !!settings.highContrast;
    $('layout').value = settings.layout === 'stacked' ? 'side-by-side' : settings.layout;
    $('views').className = 'views layout-' + $('layout').value + ($('show3d').checked ? '' : ' no-3d');
    if (schedule) $('schedule').value = schedule;
    recording = !!rec;
    $('record').classList.toggle('on', recording);
    $('record').textContent = recording ? '● recording (click to stop)' : '● record';
  }

  function parseFrame(buf) {
    const view = new DataView(buf);
    const n = view.getUint32(0, true);
    const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, n)));
    return { header, payload: new Uint8Array(buf, 4 + n) };
  }

  function base64Bytes(b64) {
    const bin = atob(b64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return bytes;
  }

  // Depth arrives as one colour-table index per pixel; colouring happens here.
  function paintDepth() {
    const lut = tables[settings.colormap];
    if (!depth || !lut) return;
    const { width: w, height: h, indices } = depth;
    if (depthCanvas.width !== w || depthCanvas.height !== h) { depthCanvas.width = w; depthCanvas.height = h; }
    if (!depthImage || depthImage.width !== w || depthImage.height !== h) depthImage = depthCtx.createImageData(w, h);
    const px = depthImage.data;
    for (let i = 0, j = 0; i < indices.length; i++, j += 4) {
      const k = indices[i] * 3;
      px[j] = lut[k];
      px[j + 1] = lut[k + 1];
      px[j + 2] = lut[k + 2];
      px[j + 3] = 255;
    }
    depthCtx.putImageData(depthImage, 0, 0);
  }

  let fineValues = new Float32Array(0);
  function onDepth(header, payload, receivedAt) {
    const n = header.width * header.height;
    const step = meshStep(header.width);
    if (payload.length !== n + (header.fine ? Math.ceil(header.width / step) * Math.ceil(header.height / step) : 0)) return;
    const indices = payload.subarray(0, n);
    depth = { width: header.width, height: header.height, indices };
    paintDepth();
    if ($('show3d').checked) {
      // With the 3D view open the server adds each index's dropped fraction: no 256-level terraces.
      let values = indices;
      if (header.fine) {
        if (fineValues.length !== n) fineValues = new Float32Array(n);
        values = fineIndexValues(indices, payload.subarray(n), header.width, header.height, step, fineValues);
      }
      // The indices say near = 255 unless the colours are inverted.
      view('live')?.setDepth(values, header.width, header.height, header.inverted ? -1 / 255 : 1 / 255, header.inverted ? 1 : 0);
    }
    framesDrawn++;
    // The server's age at send + half a round trip + colouring here: no clock sync needed.
    const latency = header.depthAgeMs + rtt / 2 + (performance.now() - receivedAt);
    latencyAvg = latencyAvg === null ? latency : latencyAvg * 0.9 + latency * 0.1;
    updateStats(header.stats);
  }

  async function drawInput() {
    if (decoding || !latestInput) return;
    decoding = true;
    const { header, payload } = latestInput;
    latestInput = null;
    try {
      const bmp = await createImageBitmap(new Blob([payload], { type: 'image/jpeg' }));
      if (inputCanvas.width !== header.width || inputCanvas.height !== header.height) { inputCanvas.width = header.width; inputCanvas.height = header.height; }
      inputCtx.drawImage(bmp, 0, 0);
      bmp.close();
      if ($('show3d').checked) view('live')?.setTexture(inputCanvas, false);
      updateStats(header.stats);
    } catch (e) {
      console.warn('preview: could not draw a frame', e);
    } finally {
      decoding = false;
      if (latestInput) drawInput();
    }
  }

  function fmt(x, digits) { return Number.isFinite(x) ? x.toFixed(digits) : '–'; }

  function updateStats(s) {
    $('photo-busy').hidden = !(live && !ended && (s.photosInProgress > 0 || photoUploads > 0));
    const now = performance.now();
    if (now - lastStatsAt < 200) return;
    lastStatsAt = now;
    $('stat-capture-fps').textContent = fmt(s.captureFps, 1);
    $('stat-inference-ms').textContent = fmt(s.inferenceMs, 0);
    $('stat-inference-fps').textContent = fmt(s.inferenceFps, 1);
    $('stat-preview-fps').textContent = fmt(s.previewFps, 1);
    $('stat-dropped').textContent = String(s.framesDropped);
    $('stat-read').textContent = String(s.framesRead);
    $('stat-latency').textContent = fmt(latencyAvg, 0);
    document.body.dataset.framesDrawn = String(framesDrawn);
  }

  /** After the run ends nothing on the page can change it: say so by disabling what would. */
  function endRun(text) {
    ended = true;
    setStatus(text, 'ended');
    document.body.classList.add('ended');
    $('live-controls').disabled = true;
    $('stop').disabled = true;
    $('stop-confirm').hidden = true;
    $('file').disabled = true;
    $('drop').classList.add('disabled');
    $('photo-busy').hidden = true;
  }

  function connect() {
    ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      setStatus('connected', 'live');
      // A reconnected page with its 3D view open asks for the finer depth again.
      if ($('show3d').checked) send({ type: 'depth3d', on: true });
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') {
        const receivedAt = performance.now();
        const f = parseFrame(ev.data);
        if (f.header.part === 'depth') {
          onDepth(f.header, f.payload, receivedAt);
        } else {
          latestInput = f;
          drawInput();
        }
        return;
      }
      const m = JSON.parse(ev.data);
      if (m.type === 'hello') {
        uploadLimit = m.uploadLimitBytes;
        live = m.live;
        for (const [name, b64] of Object.entries(m.colormapTables || {})) tables[name] = base64Bytes(b64);
        $('limit').textContent = ' (at most ' + Math.round(uploadLimit / 1048576) + ' MiB)';
        document.body.classList.toggle('no-live', !m.live);
        if (!m.live) lastView = 'photo';
        $('untrained').hidden = !m.untrained;
        liveUntrained = !!m.untrained;
        $('stat-device').textContent = m.device || '–';
        $('record').hidden = !m.canRecord;
        $('source').textContent = m.source ? m.source + (m.model ? ' · ' + m.model + (m.untrained ? ' (untrained test model)' : '') : '') : '';
        setStatus(m.live ? 'live' : 'photo mode', 'live');
        applyState(m.render, m.schedule, m.recording);
      } else if (m.type === 'state') {
        applyState(m.render, m.schedule, m.recording);
        paintDepth();
      } else if (m.type === 'pong') {
        rtt = performance.now() - m.t;
      } else if (m.type === 'end') {
        endRun('ended: ' + m.reason);
      }
    };
    ws.onclose = () => {
      if (!ended) endRun('disconnected');
    };
  }

  function renderChange(patch) {
    applyState(Object.assign({}, settings, patch), null, recording);
    // A new colour map shows at once on the last depth; the server needs it too (recordings, --out).
    paintDepth();
    send({ type: 'render', patch });
    if (lastPhoto) uploadPhoto(lastPhoto);
  }

  for (const b of document.querySelectorAll('[data-colormap]')) {
    b.addEventListener('click', () => renderChange({ colormap: b.dataset.colormap }));
  }
  $('invert').addEventListener('change', (e) => renderChange({ invert: e.target.checked }));
  $('high-contrast').addEventListener('change', (e) => renderChange({ highContrast: e.target.checked }));
  $('layout').addEventListener('change', (e) => {
    settings.layout = e.target.value;
    applyState(settings, null, recording);
    send({ type: 'render', patch: { layout: e.target.value } });
  });
  $('schedule').addEventListener('change', (e) => send({ type: 'schedule', mode: e.target.value }));
  $('record').addEventListener('click', () => send({ type: 'record', on: !recording }));
  // Stopping ends the run for good: it asks first.
  $('stop').addEventListener('click', () => { $('stop-confirm').hidden = false; $('stop').hidden = true; $('stop-yes').focus(); });
  $('stop-no').addEventListener('click', () => { $('stop-confirm').hidden = true; $('stop').hidden = false; });
  $('stop-yes').addEventListener('click', () => {
    $('stop-confirm').hidden = true;
    $('stop').hidden = false;
    $('stop').disabled = true;
    setStatus('stopping…', 'ended');
    send({ type: 'stop' });
  });
  setInterval(() => send({ type: 'ping', t: performance.now() }), 2000);

  // 3D controls: one camera model for both views.
  function model3dChange() {
    const dMin = Number($('d-min').value);
    const dMax = Number($('d-max').value);
    const fov = Number($('fov').value);
    $('fov-value').textContent = fov + '°';
    const ok = dMin > 0 && dMax > dMin;
    $('d-min').setCustomValidity(ok ? '' : 'near must be above 0 and below far');
    $('d-max').setCustomValidity(ok ? '' : 'far must be above near');
    if (!ok) return;
    Object.assign(model3d, { dMin, dMax, fovDeg: fov, removePlane: $('remove-plane').checked });
    for (const v of Object.values(views)) if (v) v.setModel(model3d);
  }
  for (const id of ['d-min', 'd-max', 'fov', 'remove-plane']) $(id).addEventListener('input', model3dChange);
  $('show3d').addEventListener('change', () => {
    send({ type: 'depth3d', on: $('show3d').checked });
    applyState(settings, null, recording);
  });
  for (const f of document.querySelectorAll('.view3d')) f.addEventListener('pointerenter', () => { lastView = f.dataset.view; });
  function save3d(name) {
    const v = views[name];
    if (v) v.save(name === 'photo' ? (lastPhotoName || 'photo') + untrainedMark(photoUntrained) + '-3d.png' : 'depth' + untrainedMark(liveUntrained) + '-3d.png');
  }
  for (const b of document.querySelectorAll('.save3d')) b.addEventListener('click', () => save3d(b.dataset.view));
  document.addEventListener('keydown', (e) => {
    // Only where an 's' could be typed does it stay a letter (no field here takes text, but a browser extension might add one).
    const typing = e.target.isContentEditable || (e.target instanceof HTMLInputElement && ['text', 'search', 'email', 'url', 'password'].includes(e.target.type));
    if (e.key !== 's' || e.ctrlKey || e.metaKey || e.altKey || typing) return;
    save3d(lastView);
  });

  // Photo mode: works with or without a live stream.
  let lastPhoto = null;
  let lastPhotoName = '';
  const urls = [];

  function showMessage(text) {
    const m = $('message');
    m.textContent = text;
    m.hidden = !text;
  }

  function pngUrl(b64) {
    const u = URL.createObjectURL(new Blob([base64Bytes(b64)], { type: 'image/png' }));
    urls.push(u);
    return u;
  }

  /** A refused file leaves nothing of the previous photo: no depth, no links, nothing a colour click could re-send. */
  function clearPhoto() {
    lastPhoto = null;
    lastPhotoName = '';
    $('photo-result').hidden = true;
    $('photo-depth').removeAttribute('src');
    $('download-color').removeAttribute('href');
    $('download-gray16').removeAttribute('href');
    $('photo-info').textContent = '';
    while (urls.length) URL.revokeObjectURL(urls.pop());
    views.photo?.clear();
  }

  // Only the newest request's answer is shown: a colour change while an
  // older upload is still working must not be overwritten by that older one.
  let photoRequest = 0;

  async function uploadPhoto(file) {
    const mine = ++photoRequest;
    if (file.size > uploadLimit) {
      clearPhoto();
      showMessage('"' + file.name + '" is ' + (file.size / 1048576).toFixed(1) + ' MiB; photos may be at most ' + Math.round(uploadLimit / 1048576) + ' MiB.');
      return;
    }
    showMessage('');
    $('photo-info').textContent = 'working…';
    const q = new URLSearchParams({ colormap: settings.colormap, invert: String(settings.invert), highContrast: String(settings.highContrast) });
    let res;
    let body;
    photoUploads++;
    $('photo-busy').hidden = !live || ended;
    try {
      res = await fetch('/api/photo?' + q, { method: 'POST', body: file, headers: { 'content-type': 'application/octet-stream' } });
      body = await res.json();
    } catch (e) {
      if (mine === photoRequest) { clearPhoto(); showMessage('The upload failed: ' + e.message); }
      return;
    } finally {
      photoUploads--;
      if (!photoUploads) $('photo-busy').hidden = true;
    }
    if (mine !== photoRequest) return;
    if (!res.ok) {
      clearPhoto();
      showMessage('"' + file.name + '" was rejected: ' + body.error);
      return;
    }
    lastPhoto = file;
    lastPhotoName = file.name.replace(/\.[^.]*$/, '') || 'photo';
    while (urls.length) URL.revokeObjectURL(urls.pop());
    const img = $('photo-depth');
    img.src = pngUrl(body.color);
    img.dataset.width = String(body.width);
    img.dataset.height = String(body.height);
    $('download-color').href = urls[0];
    $('download-gray16').href = pngUrl(body.gray16);
    photoUntrained = !!body.untrained;
    $('download-color').download = lastPhotoName + untrainedMark(photoUntrained) + '-depth.png';
    $('download-gray16').download = lastPhotoName + untrainedMark(photoUntrained) + '-depth16.png';
    $('photo-info').textContent = body.width + '×' + body.height + ', ' + body.inferenceMs.toFixed(0) + ' ms';
    $('photo-result').hidden = false;
    const v = view('photo');
    if (v) {
      const indices = base64Bytes(body.grid.indices);
      const { width: gw, height: gh } = body.grid;
      v.setDepth(fineIndexValues(indices, base64Bytes(body.grid.fractions), gw, gh, 1, new Float32Array(indices.length)), gw, gh, 1 / 255, 0);
      try {
        // WebGL cannot flip an ImageBitmap on upload: it comes flipped instead.
        const bmp = await createImageBitmap(file, { imageOrientation: 'flipY' });
        if (mine === photoRequest) v.setTexture(bmp);
      } catch (e) {
        console.warn('preview: the browser cannot show this photo as a texture', e);
      }
    }
  }

  $('file').addEventListener('change', (e) => { const f = e.target.files[0]; if (f) uploadPhoto(f); });
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const f = e.dataTransfer.files[0];
    if (f && !ended) uploadPhoto(f);
  });

  applyState(settings, 'async', false);
  connect();
})();
