// seg2vid page: paint train ids, send them as a grayscale PNG to the seg2vid_png signature,
// play the frames, and show the forward flow (from the seg2vid signature) in the Middlebury
// colour wheel. Plain JavaScript, no build step.
"use strict";

const state = {
  config: null, width: 128, height: 128, ids: null, classId: 0, tool: "brush",
  undo: [], timer: null, animation: null, frames: [], flows: [], busy: false,
  futures: [], futureIds: null,
};
const MAX_FUTURES = 4;  // futures shown side by side
const $ = (id) => document.getElementById(id);

// ------------------------------------------------------------------ label map drawing
function colorOf(id) {
  const entry = state.config.classes[id];
  return entry ? entry.color : [0, 0, 0];
}

function render() {
  const canvas = $("paint");
  const context = canvas.getContext("2d");
  const image = context.createImageData(state.width, state.height);
  for (let i = 0; i < state.ids.length; i++) {
    const color = colorOf(state.ids[i]);
    image.data[4 * i] = color[0];
    image.data[4 * i + 1] = color[1];
    image.data[4 * i + 2] = color[2];
    image.data[4 * i + 3] = 255;
  }
  context.putImageData(image, 0, 0);
}

function pushUndo() {
  state.undo.push(state.ids.slice());
  if (state.undo.length > 50) state.undo.shift();
}

function labelPoint(event) {
  const canvas = $("paint");
  const box = canvas.getBoundingClientRect();
  return [Math.floor((event.clientX - box.left) / box.width * state.width),
          Math.floor((event.clientY - box.top) / box.height * state.height)];
}

function stamp(x, y) {
  const radius = Number($("brush").value) / 2;
  const r = Math.ceil(radius);
  for (let dy = -r; dy <= r; dy++) {
    for (let dx = -r; dx <= r; dx++) {
      if (dx * dx + dy * dy > radius * radius + 0.25) continue;
      const px = x + dx, py = y + dy;
      if (px >= 0 && py >= 0 && px < state.width && py < state.height) {
        state.ids[py * state.width + px] = state.classId;
      }
    }
  }
}

function strokeTo(from, to) {
  const steps = Math.max(Math.abs(to[0] - from[0]), Math.abs(to[1] - from[1]), 1);
  for (let s = 0; s <= steps; s++) {
    stamp(Math.round(from[0] + (to[0] - from[0]) * s / steps),
          Math.round(from[1] + (to[1] - from[1]) * s / steps));
  }
}

function floodFill(x, y) {
  const target = state.ids[y * state.width + x];
  if (target === state.classId) return;
  const stack = [[x, y]];
  while (stack.length) {
    const [px, py] = stack.pop();
    if (px < 0 || py < 0 || px >= state.width || py >= state.height) continue;
    const index = py * state.width + px;
    if (state.ids[index] !== target) continue;
    state.ids[index] = state.classId;
    stack.push([px + 1, py], [px - 1, py], [px, py + 1], [px, py - 1]);
  }
}

function setupPainting() {
  const canvas = $("paint");
  let last = null;
  canvas.addEventListener("pointerdown", (event) => {
    const point = labelPoint(event);
    pushUndo();
    if (state.tool === "fill") {
      floodFill(point[0], point[1]);
      render();
      return;
    }
    canvas.setPointerCapture(event.pointerId);
    last = point;
    stamp(point[0], point[1]);
    render();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!last) return;
    const point = labelPoint(event);
    strokeTo(last, point);
    last = point;
    render();
  });
  const end = () => { last = null; };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  $("brush").addEventListener("input", () => { $("brush-value").textContent = $("brush").value; });
  $("tool-brush").addEventListener("click", () => setTool("brush"));
  $("tool-fill").addEventListener("click", () => setTool("fill"));
  $("undo").addEventListener("click", () => {
    if (state.undo.length) { state.ids = state.undo.pop(); render(); }
  });
}

function setTool(tool) {
  state.tool = tool;
  $("tool-brush").classList.toggle("active", tool === "brush");
  $("tool-fill").classList.toggle("active", tool === "fill");
}

function buildPalette() {
  const palette = $("palette");
  for (const entry of state.config.classes) {
    const swatch = document.createElement("div");
    swatch.className = "swatch" + (entry.id === state.classId ? " active" : "");
    swatch.dataset.classId = entry.id;
    swatch.title = `train id ${entry.id}`;
    swatch.innerHTML = `<i style="background: rgb(${entry.color.join(",")})"></i>${entry.name}`;
    swatch.addEventListener("click", () => {
      state.classId = entry.id;
      for (const other of palette.children) other.classList.toggle("active", other === swatch);
    });
    palette.appendChild(swatch);
  }
}

// ------------------------------------------------------------------ label PNGs in and out
function loadLabelPng(source) {
  // `source`: a data: URL or an object URL of a grayscale PNG of train ids.
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => {
      const canvas = document.createElement("canvas");
      canvas.width = state.width;
      canvas.height = state.height;
      const context = canvas.getContext("2d");
      context.imageSmoothingEnabled = false;  // nearest neighbour when the size differs
      context.drawImage(image, 0, 0, state.width, state.height);
      const pixels = context.getImageData(0, 0, state.width, state.height).data;
      const ids = new Uint8Array(state.width * state.height);
      for (let i = 0; i < ids.length; i++) {
        const value = pixels[4 * i];
        if (pixels[4 * i + 1] !== value || pixels[4 * i + 2] !== value) {
          reject(new Error("The label PNG is in colour; it must be grayscale train ids 0..19."));
          return;
        }
        ids[i] = value === 255 ? 19 : value;
        if (ids[i] > 19) {
          reject(new Error(`The label PNG has id ${value}; train ids are 0..19 (255 = void).`));
          return;
        }
      }
      resolve(ids);
    };
    image.onerror = () => reject(new Error("That file is not a readable PNG."));
    image.src = source;
  });
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function labelMapPng(ids, width, height) {
  // An 8-bit grayscale PNG, zlib "stored" blocks (no compression library needed).
  const raw = new Uint8Array(height * (width + 1));
  for (let y = 0; y < height; y++) {
    raw[y * (width + 1)] = 0;  // filter: none
    raw.set(ids.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  }
  const blocks = [];
  for (let offset = 0; offset < raw.length || offset === 0; offset += 65535) {
    const chunk = raw.subarray(offset, Math.min(offset + 65535, raw.length));
    const last = offset + 65535 >= raw.length ? 1 : 0;
    blocks.push(Uint8Array.of(last, chunk.length & 0xff, chunk.length >> 8,
                              ~chunk.length & 0xff, (~chunk.length >> 8) & 0xff), chunk);
    if (last) break;
  }
  let a = 1, b = 0;
  for (const v of raw) { a = (a + v) % 65521; b = (b + a) % 65521; }
  const zlib = concat([Uint8Array.of(0x78, 0x01), ...blocks,
                       Uint8Array.of(b >> 8, b & 0xff, a >> 8, a & 0xff)]);
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, 0, 0, 0, 0], 8);  // bit depth 8, grayscale
  return concat([Uint8Array.of(137, 80, 78, 71, 13, 10, 26, 10),
                 chunk("IHDR", header), chunk("IDAT", zlib), chunk("IEND", new Uint8Array(0))]);
}

function chunk(type, data) {
  const typed = concat([new TextEncoder().encode(type), data]);
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(typed, 4);
  view.setUint32(8 + data.length, crc32(typed));
  return out;
}

function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) { out.set(part, offset); offset += part.length; }
  return out;
}

function toBase64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192));
  }
  return btoa(text);
}

// ------------------------------------------------------------------ flow colour wheel
const WHEEL = (() => {
  const segments = [[15, [255, 0, 0], [255, 255, 0]], [6, [255, 255, 0], [0, 255, 0]],
                    [4, [0, 255, 0], [0, 255, 255]], [11, [0, 255, 255], [0, 0, 255]],
                    [13, [0, 0, 255], [255, 0, 255]], [6, [255, 0, 255], [255, 0, 0]]];
  const colors = [];
  for (const [steps, start, end] of segments) {
    for (let i = 0; i < steps; i++) {
      colors.push(start.map((s, c) => (s + (end[c] - s) * i / steps) / 255));
    }
  }
  return colors;
})();

function drawFlow(canvas, flow, largest) {
  // flow: [H][W][2] (dx, dy) in pixels; the Middlebury colour coding.
  const height = flow.length, width = flow[0].length;
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d");
  const image = context.createImageData(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [dx, dy] = flow[y][x];
      const radius = Math.min(Math.hypot(dx, dy) / largest, 1);
      const position = (Math.atan2(-dy, -dx) / Math.PI + 1) / 2 * (WHEEL.length - 1);
      const low = Math.floor(position), high = (low + 1) % WHEEL.length, f = position - low;
      const i = 4 * (y * width + x);
      for (let c = 0; c < 3; c++) {
        const color = (1 - f) * WHEEL[low][c] + f * WHEEL[high][c];
        image.data[i + c] = Math.round(255 * (1 - radius * (1 - color)));
      }
      image.data[i + 3] = 255;
    }
  }
  context.putImageData(image, 0, 0);
}

// ------------------------------------------------------------------ requests
async function predict(body) {
  let response;
  try {
    response = await fetch(`/v1/models/${state.config.model}:predict`, {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
  } catch (error) {
    throw new Error(`Cannot reach the model server: ${error.message}`);
  }
  let answer;
  try {
    answer = await response.json();
  } catch (error) {
    throw new Error(`The server answered HTTP ${response.status} without JSON.`);
  }
  if (!response.ok || answer.error) {
    throw new Error(`The server refused the request (HTTP ${response.status}): ` +
                    (answer.error || JSON.stringify(answer).slice(0, 300)));
  }
  return answer;
}

function setBusy(busy) {
  state.busy = busy;
  $("generate").disabled = busy;
  $("another").disabled = busy || !state.futureIds;
  clearInterval(state.timer);
  if (busy) {
    const start = performance.now();
    const tick = () => {
      $("status").textContent = `generating... ${((performance.now() - start) / 1000).toFixed(1)} s`;
    };
    tick();
    state.timer = setInterval(tick, 100);
  }
}

function animate() {
  clearInterval(state.animation);
  const limit = Math.max(2, Math.min(Number($("frames").value) || state.frames.length,
                                     state.frames.length));
  let t = 0;
  let shown = 0;
  const step = () => {
    $("video").src = state.frames[t];
    $("video").dataset.frameIndex = t;
    $("frame-index").textContent = `frame ${t + 1} / ${limit}`;
    if (t > 0 && state.flows[t - 1]) {
      $("flow").getContext("2d").drawImage(state.flows[t - 1], 0, 0);
    } else if (t === 0) {
      $("flow").getContext("2d").clearRect(0, 0, $("flow").width, $("flow").height);
    }
    state.futures.forEach((future) => {
      future.image.src = future.frames[t % future.frames.length];
    });
    shown += 1;
    document.body.dataset.framesShown = shown;
    t = (t + 1) % limit;
  };
  step();
  state.animation = setInterval(step, 250);
}

// One sampled future of the label map `ids` (the seg2vid_png signature): its frames as data URLs.
async function sampleFuture(ids, seed) {
  const png = toBase64(labelMapPng(ids, state.width, state.height));
  const answer = await predict({signature_name: "seg2vid_png",
                                instances: [{label_map_png_bytes: {b64: png}, seed: seed}]});
  return answer.predictions[0].map((item) => `data:image/png;base64,${item.b64}`);
}

// Adds a future to the strip (the last MAX_FUTURES stay), each captioned with its seed.
function addFuture(seed, frames) {
  const figure = document.createElement("figure");
  const image = document.createElement("img");
  image.alt = `future with seed ${seed}`;
  image.src = frames[0];
  const caption = document.createElement("figcaption");
  caption.textContent = `seed ${seed}`;
  figure.append(image, caption);
  $("futures").appendChild(figure);
  state.futures.push({seed: seed, frames: frames, image: image, figure: figure});
  while (state.futures.length > MAX_FUTURES) state.futures.shift().figure.remove();
  document.body.dataset.futures = state.futures.length;
}

async function anotherFuture() {
  if (state.busy || !state.futureIds) return;
  $("error").textContent = "";
  const seed = Math.max(...state.futures.map((future) => future.seed)) + 1;
  setBusy(true);
  try {
    addFuture(seed, await sampleFuture(state.futureIds, seed));
    $("seed").value = seed;
    setBusy(false);
    $("status").textContent = `${state.futures.length} futures of the same label map`;
  } catch (error) {
    setBusy(false);
    $("status").textContent = "";
    $("error").textContent = error.message;
  }
}

async function generate() {
  if (state.busy) return;
  $("error").textContent = "";
  const seed = Math.trunc(Number($("seed").value));
  if (!Number.isFinite(seed)) {
    $("error").textContent = "The seed must be an integer.";
    return;
  }
  setBusy(true);
  try {
    state.frames = await sampleFuture(state.ids, seed);
    state.flows = [];
    // A new map (or seed) starts a new strip of futures.
    state.futureIds = state.ids.slice();
    state.futures.forEach((future) => future.figure.remove());
    state.futures = [];
    addFuture(seed, state.frames);
    $("first").src = state.frames[0];
    $("frames").max = state.frames.length;
    if (!Number($("frames").value)) $("frames").value = state.frames.length;
    animate();
    $("status").textContent = "frames ready; computing the flow...";
    const rows = [];
    for (let y = 0; y < state.height; y++) {
      rows.push(Array.from(state.ids.subarray(y * state.width, (y + 1) * state.width)));
    }
    const flowAnswer = await predict({signature_name: "seg2vid",
                                      inputs: {label_map: [rows], seed: [seed]}});
    const flow = flowAnswer.outputs.flow[0];
    // Colour scale: the 99th percentile of the speeds, so that a few wild pixels (e.g. at
    // the border) do not wash the picture out; faster pixels show at full saturation.
    const speeds = [];
    for (const frame of flow) for (const row of frame) for (const [dx, dy] of row) {
      speeds.push(Math.hypot(dx, dy));
    }
    speeds.sort((a, b) => a - b);
    const largest = Math.max(speeds[Math.floor(0.99 * (speeds.length - 1))], 1e-3);
    state.flows = flow.map((frame) => {
      const canvas = document.createElement("canvas");
      drawFlow(canvas, frame, largest);
      return canvas;
    });
    $("flow").width = state.width;
    $("flow").height = state.height;
    setBusy(false);
    $("status").textContent = `done: ${state.frames.length} frames; flow colour scale ` +
                              `${largest.toFixed(2)} px (99th percentile)`;
    document.body.dataset.generated = "1";
  } catch (error) {
    setBusy(false);
    $("status").textContent = "";
    $("error").textContent = error.message;
  }
}

// ------------------------------------------------------------------ start
async function start() {
  try {
    state.config = await (await fetch("/config")).json();
  } catch (error) {
    $("error").textContent = `Cannot read the server's /config: ${error.message}`;
    return;
  }
  state.width = state.config.width || 128;
  state.height = state.config.height || 128;
  $("paint").width = state.width;
  $("paint").height = state.height;
  $("model-info").textContent = `Model "${state.config.model}" version ${state.config.version}, ` +
      `${state.width}x${state.height}, ${state.config.num_frames + 1} frames.`;
  $("frames").value = state.config.num_frames + 1;
  state.ids = new Uint8Array(state.width * state.height);
  for (let i = 0; i < state.ids.length; i++) {
    state.ids[i] = i < state.ids.length / 3 ? 10 : (i < state.ids.length / 2 ? 2 : 0);
  }
  buildPalette();
  setupPainting();
  render();
  $("generate").addEventListener("click", generate);
  $("another").addEventListener("click", anotherFuture);
  $("upload").addEventListener("change", async () => {
    const file = $("upload").files[0];
    if (!file) return;
    try {
      const ids = await loadLabelPng(URL.createObjectURL(file));
      pushUndo();
      state.ids = ids;
      render();
    } catch (error) {
      $("error").textContent = `${file.name}: ${error.message}`;
    }
  });
  try {
    const examples = (await (await fetch("/examples")).json()).examples;
    examples.forEach((example, index) => {
      const option = document.createElement("option");
      option.value = index;
      option.textContent = example.name;
      $("examples").appendChild(option);
    });
    $("examples").addEventListener("change", async () => {
      const example = examples[Number($("examples").value)];
      if (!example) return;
      pushUndo();
      state.ids = await loadLabelPng(`data:image/png;base64,${example.png_b64}`);
      render();
    });
    if (examples.length) {
      state.ids = await loadLabelPng(`data:image/png;base64,${examples[0].png_b64}`);
      $("examples").value = "0";
      render();
    }
  } catch (error) {
    $("error").textContent = `Cannot load the examples: ${error.message}`;
  }
  document.body.dataset.ready = "1";
}

start();
