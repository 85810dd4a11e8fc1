// The 3D view: a dense grid mesh displaced by depth, the picture as its texture.
// The depth-to-3D conversion is the one the PLY writer uses (/lib/unproject.js).
import * as THREE from '/vendor/three.module.js';
import { depthFromInverse, fitInversePlane, gridSize, sampleInverse, subtractInversePlane, unprojectGrid } from '/lib/unproject.js';
import { meshStep } from '/lib/depth-fine.js';

export class DepthView {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {{ dMin: number, dMax: number, fovDeg: number, removePlane: boolean }} model
   */
  constructor(canvas, model) {
    this.canvas = canvas;
    this.model = { ...model };
    // preserveDrawingBuffer: the saved PNG is the frame on screen, whenever it is taken.
    // No multisampling: without a GPU (software GL) it costs more than the rest of the frame.
    this.renderer = new THREE.WebGLRenderer({ canvas, antialias: false, preserveDrawingBuffer: true });
    this.renderer.setClearColor(0x000000);
    this.scene = new THREE.Scene();
    this.camera = new THREE.PerspectiveCamera(45, canvas.width / canvas.height, 0.01, 1000);
    this.material = new THREE.MeshBasicMaterial({ side: THREE.DoubleSide, color: 0xffffff });
    this.mesh = null;
    this.depth = null; // { values, width, height, scale, offset }: the last depth, redrawn when the model changes
    this.grid = null; // { cols, rows, step, width, height, v: Float32Array }
    this.texture = null;
    this.orbit = { yaw: 0, pitch: 0, zoom: 1 };
    this.target = new THREE.Vector3();
    this.pending = false;
    this.frames = 0;
    this.attachMouse();
  }

  /** Orbit about the scene's middle distance; at rest the view is the camera's own. */
  attachMouse() {
    const c = this.canvas;
    let drag = null;
    c.addEventListener('pointerdown', (e) => { drag = { x: e.clientX, y: e.clientY }; c.setPointerCapture(e.pointerId); });
    c.addEventListener('pointermove', (e) => {
      if (!drag) return;
      const dx = e.clientX - drag.x;
      const dy = e.clientY - drag.y;
      drag = { x: e.clientX, y: e.clientY };
      this.orbit.yaw -= dx * 0.005;
      this.orbit.pitch = Math.max(-1.5, Math.min(1.5, this.orbit.pitch - dy * 0.005));
      this.requestRender();
    });
    const end = () => { drag = null; };
    c.addEventListener('pointerup', end);
    c.addEventListener('pointercancel', end);
    c.addEventListener('wheel', (e) => {
      e.preventDefault();
      this.orbit.zoom = Math.max(0.05, Math.min(20, this.orbit.zoom * Math.exp(e.deltaY * 0.001)));
      this.requestRender();
    }, { passive: false });
    c.addEventListener('dblclick', () => { this.orbit = { yaw: 0, pitch: 0, zoom: 1 }; this.requestRender(); });
  }

  setModel(model) {
    Object.assign(this.model, model);
    this.rebuild();
  }

  /**
   * Picture on the mesh: a canvas redrawn in place (live) or an image (photo).
   * A new picture of the same source shows with the next depth (`now`: at once):
   * the view runs at the depth rate, not the camera's.
   */
  setTexture(source, now = true) {
    if (!this.texture || this.texture.image !== source) {
      this.dropTexture();
      this.texture = source instanceof HTMLCanvasElement ? new THREE.CanvasTexture(source) : new THREE.Texture(source);
      // An ImageBitmap is uploaded as it is (three.js skips flipY for it): the caller makes it upside down.
      if (typeof ImageBitmap !== 'undefined' && source instanceof ImageBitmap) this.texture.flipY = false;
      this.texture.colorSpace = THREE.SRGBColorSpace;
      this.texture.minFilter = THREE.LinearFilter;
      this.texture.generateMipmaps = false;
      this.material.map = this.texture;
      this.material.needsUpdate = true;
    }
    this.texture.needsUpdate = true;
    if (now) this.requestRender();
  }

  /**
   * New depth: colour-table index values of V (scale 1/255, offset 0) or far-is-bright
   * ones (scale -1/255, offset 1), width x height: the indices themselves, or with
   * their fractions (/lib/depth-fine.js) for a smooth mesh.
   */
  setDepth(values, width, height, scale, offset) {
    this.depth = { values, width, height, scale, offset };
    this.rebuild();
  }

  dropTexture() {
    if (!this.texture) return;
    this.texture.dispose();
    // A photo's bitmap is the view's alone; the live canvas is the page's.
    if (typeof ImageBitmap !== 'undefined' && this.texture.image instanceof ImageBitmap) this.texture.image.close();
    this.texture = null;
    this.material.map = null;
    this.material.needsUpdate = true;
  }

  clear() {
    this.dropTexture();
    this.depth = null;
    if (this.mesh) { this.scene.remove(this.mesh); this.mesh.geometry.dispose(); this.mesh = null; this.grid = null; }
    this.requestRender();
  }

  rebuild() {
    const d = this.depth;
    if (!d) return;
    // The server sends fractions for exactly these pixels (depth-fine.ts).
    const step = meshStep(d.width);
    const { cols, rows } = gridSize(d.width, d.height, step);
    if (!this.grid || this.grid.cols !== cols || this.grid.rows !== rows || this.grid.width !== d.width || this.grid.height !== d.height) this.makeMesh(cols, rows, step, d.width, d.height);
    const g = this.grid;
    sampleInverse(d.values, d.width, d.height, step, d.scale, d.offset, g.v);
    // Distinct depths along the top row: 256 at most from indices alone, more with their fractions (tests read it).
    const levels = new Set();
    for (let x = 0; x < cols; x++) levels.add(g.v[x]);
    this.canvas.dataset.levels = String(levels.size);
    if (this.model.removePlane) {
      const plane = fitInversePlane(g.v, cols, rows);
      if (plane) subtractInversePlane(g.v, cols, rows, plane);
    }
    const pos = this.mesh.geometry.attributes.position;
    unprojectGrid(g.v, cols, rows, d.width, d.height, step, this.model, pos.array);
    pos.needsUpdate = true;
    this.requestRender();
  }

  makeMesh(cols, rows, step, width, height) {
    if (this.mesh) { this.scene.remove(this.mesh); this.mesh.geometry.dispose(); }
    const geom = new THREE.BufferGeometry();
    const uv = new Float32Array(cols * rows * 2);
    for (let y = 0, k = 0; y < rows; y++) {
      for (let x = 0; x < cols; x++, k++) {
        uv[k * 2] = (x * step + 0.5) / width;
        uv[k * 2 + 1] = 1 - (y * step + 0.5) / height;
      }
    }
    const idx = new (cols * rows > 65535 ? Uint32Array : Uint16Array)((cols - 1) * (rows - 1) * 6);
    for (let y = 0, k = 0; y < rows - 1; y++) {
      for (let x = 0; x < cols - 1; x++) {
        const a = y * cols + x;
        idx[k++] = a; idx[k++] = a + cols; idx[k++] = a + 1;
        idx[k++] = a + 1; idx[k++] = a + cols; idx[k++] = a + cols + 1;
      }
    }
    geom.setAttribute('position', new THREE.BufferAttribute(new Float32Array(cols * rows * 3), 3).setUsage(THREE.DynamicDrawUsage));
    geom.setAttribute('uv', new THREE.BufferAttribute(uv, 2));
    geom.setIndex(new THREE.BufferAttribute(idx, 1));
    this.mesh = new THREE.Mesh(geom, this.material);
    // The points move every frame; bounds would have to be recomputed to cull, and the mesh is always in view.
    this.mesh.frustumCulled = false;
    this.scene.add(this.mesh);
    this.grid = { cols, rows, step, width, height, v: new Float32Array(cols * rows) };
    // The canvas takes the picture's aspect, so at rest the view is the photo.
    const cssWidth = this.canvas.clientWidth || this.canvas.width;
    this.canvas.width = Math.max(64, Math.round(cssWidth * (window.devicePixelRatio || 1)));
    this.canvas.height = Math.round((this.canvas.width * height) / width);
    this.renderer.setSize(this.canvas.width, this.canvas.height, false);
  }

  requestRender() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => { this.pending = false; this.draw(); });
  }

  draw() {
    const g = this.grid;
    const m = this.model;
    if (g) {
      // The view's vertical FOV from the horizontal one and the picture's aspect.
      const half = Math.atan(Math.tan((m.fovDeg * Math.PI) / 360) * (g.height / g.width));
      this.camera.fov = (2 * half * 180) / Math.PI;
      this.camera.aspect = this.canvas.width / this.canvas.height;
    }
    const pivot = depthFromInverse(0.5, m.dMin, m.dMax);
    this.camera.near = Math.max(0.001, m.dMin / 100);
    this.camera.far = m.dMax * 20;
    this.camera.updateProjectionMatrix();
    const { yaw, pitch, zoom } = this.orbit;
    const r = pivot * zoom;
    const target = this.target.set(0, 0, -pivot);
    this.camera.position.set(
      target.x + r * Math.sin(yaw) * Math.cos(pitch),
      target.y + r * Math.sin(pitch),
      target.z + r * Math.cos(yaw) * Math.cos(pitch),
    );
    this.camera.lookAt(target);
    this.renderer.render(this.scene, this.camera);
    this.frames++;
    this.canvas.dataset.frames = String(this.frames);
  }

  /** Saves what is on screen as a PNG download. */
  save(name) {
    this.draw();
    this.canvas.toBlob((blob) => {
      if (!blob) return;
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = name;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    }, 'image/png');
  }
}
