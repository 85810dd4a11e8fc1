// depth-video preview page: plain JS so it needs no build step.
'use strict';
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
    $('views').className = 'views layout-' + $('layout').value;
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

  function onDepth(header, payload, receivedAt) {
    if (payload.length !== header.width * header.height) return;
    depth = { width: header.width, height: header.height, indices: payload };
    paintDepth();
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

  function connect() {
    ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => setStatus('connected', 'live');
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
        for (const [name, b64] of Object.entries(m.colormapTables || {})) tables[name] = base64Bytes(b64);
        $('limit').textContent = ' (at most ' + Math.round(uploadLimit / 1048576) + ' MB)';
        document.body.classList.toggle('no-live', !m.live);
        $('untrained').hidden = !m.untrained;
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
        ended = true;
        setStatus('ended: ' + m.reason, 'ended');
      }
    };
    ws.onclose = () => {
      if (!ended) setStatus('disconnected', 'ended');
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
    $('views').className = 'views layout-' + e.target.value;
    send({ type: 'render', patch: { layout: e.target.value } });
  });
  $('schedule').addEventListener('change', (e) => send({ type: 'schedule', mode: e.target.value }));
  $('record').addEventListener('click', () => send({ type: 'record', on: !recording }));
  $('stop').addEventListener('click', () => send({ type: 'stop' }));
  setInterval(() => send({ type: 'ping', t: performance.now() }), 2000);

  // Photo mode: works with or without a live stream.
  let lastPhoto = null;
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

  // Only the newest request's answer is shown: a colour change while an
  // older upload is still working must not be overwritten by that older one.
  let photoRequest = 0;

  async function uploadPhoto(file) {
    const mine = ++photoRequest;
    if (file.size > uploadLimit) {
      showMessage('"' + file.name + '" is ' + (file.size / 1048576).toFixed(1) + ' MB; photos may be at most ' + Math.round(uploadLimit / 1048576) + ' MB.');
      return;
    }
    showMessage('');
    $('photo-info').textContent = 'working…';
    const q = new URLSearchParams({ colormap: settings.colormap, invert: String(settings.invert), highContrast: String(settings.highContrast) });
    let res;
    let body;
    try {
      res = await fetch('/api/photo?' + q, { method: 'POST', body: file, headers: { 'content-type': 'application/octet-stream' } });
      body = await res.json();
    } catch (e) {
      if (mine === photoRequest) showMessage('The upload failed: ' + e.message);
      return;
    }
    if (mine !== photoRequest) return;
    if (!res.ok) {
      lastPhoto = null;
      $('photo-result').hidden = true;
      showMessage('"' + file.name + '" was rejected: ' + body.error);
      return;
    }
    lastPhoto = file;
    while (urls.length) URL.revokeObjectURL(urls.pop());
    const img = $('photo-depth');
    img.src = pngUrl(body.color);
    img.dataset.width = String(body.width);
    img.dataset.height = String(body.height);
    $('download-color').href = urls[0];
    $('download-gray16').href = pngUrl(body.gray16);
    const base = file.name.replace(/\.[^.]*$/, '') || 'photo';
    $('download-color').download = base + '-depth.png';
    $('download-gray16').download = base + '-depth16.png';
    $('photo-info').textContent = body.width + '×' + body.height + ', ' + body.inferenceMs.toFixed(0) + ' ms';
    $('photo-result').hidden = false;
  }

  $('file').addEventListener('change', (e) => { const f = e.target.files[0]; if (f) uploadPhoto(f); });
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const f = e.dataTransfer.files[0];
    if (f) uploadPhoto(f);
  });

  applyState(settings, 'async', false);
  connect();
})();
