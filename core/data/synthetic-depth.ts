/**
 * Procedural indoor scenes ray-cast to RGB + depth, deterministic from (seed, stream, index).
 *
 * A scene is a box-shaped room (floor y = 0, ceiling, side walls, back wall; metres, y up, the camera looks toward
 * +z) holding spheres and boxes (boxes rest on the floor and turn about the vertical axis). A pinhole camera with
 * a random height, pitch and yaw looks into the room. Shading: Lambert with one point light near the ceiling, hard
 * shadows from the objects, an ambient term; floor tiles, wallpaper stripes and striped objects as textures.
 * Depth is z-depth: the distance along the camera's optical axis, in metres (what NYU Depth v2 stores).
 */
import { Rng, mixSeed } from '../random.ts';
import type { Dataset } from './dataset.ts';
import { SplitDataset, makeSplits, type BatchTarget, type SampleSource } from './indexed-split.ts';

export type Vec3 = [number, number, number];

export interface Camera {
  readonly position: Vec3;
  /** Rotation about the vertical axis (radians, positive turns toward +x). */
  readonly yaw: number;
  /** Rotation about the horizontal axis (radians, positive looks down). */
  readonly pitch: number;
  /** Horizontal = vertical field of view (square images), radians. */
  readonly fov: number;
}

export interface Surface {
  readonly colour: Vec3;
  /** Second colour of the texture (tiles, stripes); equal to colour for a plain surface. */
  readonly colour2: Vec3;
  /** Texture period in metres; 0 = plain. */
  readonly period: number;
}

export interface SphereObject {
  readonly type: 'sphere';
  readonly centre: Vec3;
  readonly radius: number;
  readonly surface: Surface;
}

export interface BoxObject {
  readonly type: 'box';
  readonly centre: Vec3;
  /** Half extents along the box's own x, y, z axes. */
  readonly half: Vec3;
  readonly yaw: number;
  readonly surface: Surface;
}

export type SceneObject = SphereObject | BoxObject;

export interface DepthScene {
  /** Room extent: x in [-width/2, width/2], y in [0, height], z in [zMin, depth]. */
  readonly room: { readonly width: number; readonly height: number; readonly depth: number; readonly zMin: number };
  readonly floor: Surface;
  readonly walls: Surface;
  readonly ceiling: Surface;
  readonly objects: readonly SceneObject[];
  readonly light: Vec3;
  readonly ambient: number;
  readonly camera: Camera;
  /** Standard deviation of RGB noise (0 … 1 scale). */
  readonly noise: number;
}

export interface SyntheticDepthOptions {
  /** Image side in pixels (default 64). */
  readonly size?: number;
  /** Training samples, not counting the held-out ones (default 8000). */
  readonly trainSize?: number;
  /** Held-out samples from the training stream (default 1000). */
  readonly heldoutSize?: number;
  /** Test samples from a separate stream (default 1000). */
  readonly testSize?: number;
  readonly seed?: number;
  /** Up to this many objects per scene (default 6). */
  readonly maxObjects?: number;
}

const TRAIN_STREAM = 1;
const TEST_STREAM = 2;

export function syntheticDepth(options: SyntheticDepthOptions = {}): Dataset {
  const size = options.size ?? 64;
  const trainSize = options.trainSize ?? 8000;
  const heldoutSize = options.heldoutSize ?? 1000;
  const testSize = options.testSize ?? 1000;
  const seed = options.seed ?? 1;
  const maxObjects = options.maxObjects ?? 6;
  const checks: [string, boolean][] = [
    ['size', Number.isInteger(size) && size >= 8 && size <= 1024],
    ['trainSize', Number.isInteger(trainSize) && trainSize >= 1],
    ['heldoutSize', Number.isInteger(heldoutSize) && heldoutSize >= 0],
    ['testSize', Number.isInteger(testSize) && testSize >= 0],
    ['seed', Number.isInteger(seed)],
    ['maxObjects', Number.isInteger(maxObjects) && maxObjects >= 0 && maxObjects <= 32],
  ];
  for (const [field, ok] of checks) {
    if (!ok) throw new RangeError(`synthetic depth: invalid ${field} ${String(options[field as keyof SyntheticDepthOptions])}`);
  }
  const pool = new SceneSource(size, seed, TRAIN_STREAM, trainSize + heldoutSize, maxObjects);
  const test = testSize > 0 ? new SceneSource(size, seed, TEST_STREAM, testSize, maxObjects) : undefined;
  return new SplitDataset({ kind: 'depth', name: 'synthetic-depth', inputShape: [size, size, 3] }, makeSplits(pool, heldoutSize, seed, test));
}

class SceneSource implements SampleSource {
  readonly kind = 'depth';
  readonly height: number;
  readonly width: number;

  constructor(
    readonly size: number,
    private readonly seed: number,
    private readonly stream: number,
    readonly count: number,
    private readonly maxObjects: number,
  ) {
    this.height = size;
    this.width = size;
  }

  write(index: number, target: BatchTarget, slot: number): void {
    const rng = new Rng(mixSeed(this.seed, this.stream, index));
    const scene = randomScene(rng, this.maxObjects);
    const pixels = this.size * this.size;
    renderScene(scene, this.size, target.images, slot * pixels * 3, target.depth, slot * pixels, rng);
  }
}

/** A random room with up to `maxObjects` objects, all drawn from `rng`. */
export function randomScene(rng: Rng, maxObjects = 6): DepthScene {
  const width = 3 + 3 * rng.next();
  const height = 2.4 + 0.8 * rng.next();
  const depth = 4 + 4 * rng.next();
  const room = { width, height, depth, zMin: -0.5 };
  const camera: Camera = {
    position: [(rng.next() - 0.5) * (width - 1.2), 0.9 + 0.9 * rng.next(), 0],
    yaw: (rng.next() - 0.5) * 0.5,
    pitch: 0.05 + 0.35 * rng.next(),
    fov: (50 + 15 * rng.next()) * (Math.PI / 180),
  };
  const objects: SceneObject[] = [];
  const count = rng.int(maxObjects + 1);
  for (let i = 0; i < count; i++) {
    const surface = randomSurface(rng, 0.5);
    const z = 1.2 + (depth - 1.8) * rng.next();
    if (rng.next() < 0.5) {
      const radius = 0.15 + 0.45 * rng.next();
      const x = (rng.next() - 0.5) * (width - 2 * radius);
      const y = rng.next() < 0.7 ? radius : radius + (height - 2 * radius) * 0.6 * rng.next();
      objects.push({ type: 'sphere', centre: [x, y, z], radius, surface });
    } else {
      const half: Vec3 = [0.15 + 0.45 * rng.next(), 0.15 + 0.5 * rng.next(), 0.15 + 0.45 * rng.next()];
      const reach = Math.hypot(half[0], half[2]);
      const x = (rng.next() - 0.5) * Math.max(0, width - 2 * reach);
      objects.push({ type: 'box', centre: [x, half[1], z], half, yaw: rng.next() * Math.PI, surface });
    }
  }
  return {
    room,
    floor: randomSurface(rng, 1),
    walls: randomSurface(rng, 0.4),
    ceiling: { colour: [0.85, 0.85, 0.82], colour2: [0.85, 0.85, 0.82], period: 0 },
    objects,
    light: [(rng.next() - 0.5) * width * 0.8, height - 0.1, 0.5 + depth * 0.5 * rng.next()],
    ambient: 0.15 + 0.2 * rng.next(),
    camera,
    noise: 0.01 + 0.02 * rng.next(),
  };
}

function randomSurface(rng: Rng, texturedProbability: number): Surface {
  const colour: Vec3 = [0.1 + 0.9 * rng.next(), 0.1 + 0.9 * rng.next(), 0.1 + 0.9 * rng.next()];
  if (rng.next() >= texturedProbability) return { colour, colour2: colour, period: 0 };
  const shade = 0.35 + 0.4 * rng.next();
  const colour2: Vec3 = rng.next() < 0.5 ? [colour[0] * shade, colour[1] * shade, colour[2] * shade] : [rng.next(), rng.next(), rng.next()];
  return { colour, colour2, period: 0.2 + 0.6 * rng.next() };
}

/** Camera basis: forward, right and up unit vectors in world coordinates. */
function cameraBasis(camera: Camera): { forward: Vec3; right: Vec3; up: Vec3 } {
  const cy = Math.cos(camera.yaw);
  const sy = Math.sin(camera.yaw);
  const cp = Math.cos(camera.pitch);
  const sp = Math.sin(camera.pitch);
  return {
    forward: [sy * cp, -sp, cy * cp],
    right: [cy, 0, -sy],
    up: [sy * sp, cp, cy * sp],
  };
}

/**
 * Direction of the ray through the centre of pixel (x, y) (y = 0 is the top row), scaled so that its component
 * along the optical axis is 1: the ray parameter t of a hit is then its z-depth.
 */
export function cameraRay(camera: Camera, size: number, x: number, y: number): Vec3 {
  const { forward, right, up } = cameraBasis(camera);
  const half = Math.tan(camera.fov / 2);
  const u = ((x + 0.5) / size - 0.5) * 2 * half;
  const v = (0.5 - (y + 0.5) / size) * 2 * half;
  return [forward[0] + u * right[0] + v * up[0], forward[1] + u * right[1] + v * up[1], forward[2] + u * right[2] + v * up[2]];
}

interface Hit {
  t: number;
  normal: Vec3;
  surface: Surface;
  /** Texture coordinates in metres. */
  s: number;
  r: number;
}

/**
 * Ray-casts `scene` into images[imageOffset …] (size² × 3, normalized to [-1, 1]) and depth[depthOffset …]
 * (size² metres; pass undefined to skip). RGB noise (scene.noise) is drawn from `rng` (seed 0 when omitted).
 */
export function renderScene(
  scene: DepthScene,
  size: number,
  images: Float32Array,
  imageOffset: number,
  depth: Float32Array | undefined,
  depthOffset: number,
  rng: Rng = new Rng(0),
): void {
  const origin = scene.camera.position;
  const { forward, right, up } = cameraBasis(scene.camera);
  const half = Math.tan(scene.camera.fov / 2);
  const hit: Hit = { t: 0, normal: [0, 0, 0], surface: scene.floor, s: 0, r: 0 };
  const dir: Vec3 = [0, 0, 0];
  const point: Vec3 = [0, 0, 0];
  const objects = scene.objects.map(prepareObject);
  for (let y = 0; y < size; y++) {
    const v = (0.5 - (y + 0.5) / size) * 2 * half;
    for (let x = 0; x < size; x++) {
      const u = ((x + 0.5) / size - 0.5) * 2 * half;
      dir[0] = forward[0] + u * right[0] + v * up[0];
      dir[1] = forward[1] + u * right[1] + v * up[1];
      dir[2] = forward[2] + u * right[2] + v * up[2];
      intersectRoom(scene, origin, dir, hit);
      for (const object of objects) intersectObject(object, origin, dir, hit);
      point[0] = origin[0] + dir[0] * hit.t;
      point[1] = origin[1] + dir[1] * hit.t;
      point[2] = origin[2] + dir[2] * hit.t;
      const p = y * size + x;
      if (depth) depth[depthOffset + p] = hit.t;
      shade(scene, objects, point, hit, images, imageOffset + p * 3, rng);
    }
  }
}

/** The room's interior surface hit by a ray starting inside it (slab exit). */
function intersectRoom(scene: DepthScene, o: Vec3, d: Vec3, hit: Hit): void {
  const { width, height, depth, zMin } = scene.room;
  const tx = d[0] > 0 ? (width / 2 - o[0]) / d[0] : d[0] < 0 ? (-width / 2 - o[0]) / d[0] : Infinity;
  const ty = d[1] > 0 ? (height - o[1]) / d[1] : d[1] < 0 ? -o[1] / d[1] : Infinity;
  const tz = d[2] > 0 ? (depth - o[2]) / d[2] : d[2] < 0 ? (zMin - o[2]) / d[2] : Infinity;
  const n = hit.normal;
  n[0] = 0;
  n[1] = 0;
  n[2] = 0;
  if (ty <= tx && ty <= tz) {
    hit.t = ty;
    n[1] = d[1] > 0 ? -1 : 1;
    hit.surface = d[1] > 0 ? scene.ceiling : scene.floor;
    hit.s = o[0] + d[0] * ty;
    hit.r = o[2] + d[2] * ty;
  } else if (tx <= tz) {
    hit.t = tx;
    n[0] = d[0] > 0 ? -1 : 1;
    hit.surface = scene.walls;
    hit.s = o[2] + d[2] * tx;
    hit.r = (o[1] + d[1] * tx) * 0.05; // wallpaper: vertical stripes
  } else {
    hit.t = tz;
    n[2] = d[2] > 0 ? -1 : 1;
    hit.surface = scene.walls;
    hit.s = o[0] + d[0] * tz;
    hit.r = (o[1] + d[1] * tz) * 0.05;
  }
}

/** One monomorphic record per object with the trigonometry done once (the inner loop runs per pixel). */
interface PreparedObject {
  readonly sphere: boolean;
  readonly cx: number;
  readonly cy: number;
  readonly cz: number;
  readonly radius: number;
  readonly hx: number;
  readonly hy: number;
  readonly hz: number;
  readonly cos: number;
  readonly sin: number;
  readonly surface: Surface;
}

function prepareObject(object: SceneObject): PreparedObject {
  const [cx, cy, cz] = object.centre;
  const sphere = object.type === 'sphere';
  const [hx, hy, hz] = sphere ? [0, 0, 0] : object.half;
  const yaw = sphere ? 0 : object.yaw;
  return { sphere, cx, cy, cz, radius: sphere ? object.radius : 0, hx, hy, hz, cos: Math.cos(yaw), sin: Math.sin(yaw), surface: object.surface };
}

/** Replaces `hit` when `object` is hit closer than hit.t. */
function intersectObject(object: PreparedObject, o: Vec3, d: Vec3, hit: Hit): boolean {
  if (object.sphere) {
    const { cx, cy, cz } = object;
    const ox = o[0] - cx;
    const oy = o[1] - cy;
    const oz = o[2] - cz;
    const a = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
    const b = ox * d[0] + oy * d[1] + oz * d[2];
    const c = ox * ox + oy * oy + oz * oz - object.radius * object.radius;
    const disc = b * b - a * c;
    if (disc < 0) return false;
    const t = (-b - Math.sqrt(disc)) / a;
    if (t <= 1e-6 || t >= hit.t) return false;
    hit.t = t;
    const n = hit.normal;
    n[0] = (ox + d[0] * t) / object.radius;
    n[1] = (oy + d[1] * t) / object.radius;
    n[2] = (oz + d[2] * t) / object.radius;
    hit.surface = object.surface;
    hit.s = n[1] * object.radius;
    hit.r = 0;
    return true;
  }
  // Box: move the ray into the box frame (rotated by -yaw about y), then a slab test.
  const { cos, sin, hx, hy, hz } = object;
  const rx = o[0] - object.cx;
  const rz = o[2] - object.cz;
  const ox = cos * rx - sin * rz;
  const oy = o[1] - object.cy;
  const oz = sin * rx + cos * rz;
  const dx = cos * d[0] - sin * d[2];
  const dy = d[1];
  const dz = sin * d[0] + cos * d[2];
  let tNear = -Infinity;
  let tFar = Infinity;
  let nearAxis = 0;
  let nearSign = 1;
  for (let a = 0; a < 3; a++) {
    const h = a === 0 ? hx : a === 1 ? hy : hz;
    const oa = a === 0 ? ox : a === 1 ? oy : oz;
    const da = a === 0 ? dx : a === 1 ? dy : dz;
    if (Math.abs(da) < 1e-12) {
      if (oa < -h || oa > h) return false;
      continue;
    }
    const t0 = (-h - oa) / da;
    const t1 = (h - oa) / da;
    const enter = t0 < t1 ? t0 : t1;
    const exit = t0 < t1 ? t1 : t0;
    if (enter > tNear) {
      tNear = enter;
      nearAxis = a;
      nearSign = da > 0 ? -1 : 1;
    }
    if (exit < tFar) tFar = exit;
    if (tNear > tFar) return false;
  }
  if (tNear <= 1e-6 || tNear >= hit.t) return false;
  hit.t = tNear;
  // The face normal, back to world coordinates (rotate by +yaw about y).
  const lx = nearAxis === 0 ? nearSign : 0;
  const lz = nearAxis === 2 ? nearSign : 0;
  const n = hit.normal;
  n[0] = cos * lx + sin * lz;
  n[1] = nearAxis === 1 ? nearSign : 0;
  n[2] = -sin * lx + cos * lz;
  hit.surface = object.surface;
  hit.s = oy + dy * tNear;
  hit.r = 0;
  return true;
}

function shade(scene: DepthScene, objects: readonly PreparedObject[], p: Vec3, hit: Hit, out: Float32Array, offset: number, rng: Rng): void {
  const surface = hit.surface;
  let albedo = surface.colour;
  if (surface.period > 0) {
    const a = Math.floor(hit.s / surface.period);
    const b = Math.floor(hit.r / surface.period);
    if (((a + b) & 1) === 1) albedo = surface.colour2;
  }
  const lx = scene.light[0] - p[0];
  const ly = scene.light[1] - p[1];
  const lz = scene.light[2] - p[2];
  const distance = Math.sqrt(lx * lx + ly * ly + lz * lz);
  const cosine = Math.max(0, (hit.normal[0] * lx + hit.normal[1] * ly + hit.normal[2] * lz) / distance);
  let direct = cosine > 0 ? cosine * Math.min(1.6, 6 / (distance * distance + 2)) : 0;
  if (direct > 0 && inShadow(objects, p, hit.normal, lx, ly, lz)) direct = 0;
  const light = scene.ambient + (1 - scene.ambient) * direct;
  for (let c = 0; c < 3; c++) {
    const noise = (rng.next() + rng.next() - 1) * scene.noise * 2.45;
    const value = (albedo[c] as number) * light + noise;
    out[offset + c] = (value < 0 ? 0 : value > 1 ? 1 : value) * 2 - 1;
  }
}

const shadowHit: Hit = { t: 0, normal: [0, 0, 0], surface: { colour: [0, 0, 0], colour2: [0, 0, 0], period: 0 }, s: 0, r: 0 };
const shadowStart: Vec3 = [0, 0, 0];
const shadowDir: Vec3 = [0, 0, 0];

/** Whether an object lies between p (on a surface with this normal) and the light at p + toLight. */
function inShadow(objects: readonly PreparedObject[], p: Vec3, normal: Vec3, lx: number, ly: number, lz: number): boolean {
  shadowStart[0] = p[0] + normal[0] * 1e-4;
  shadowStart[1] = p[1] + normal[1] * 1e-4;
  shadowStart[2] = p[2] + normal[2] * 1e-4;
  shadowDir[0] = lx;
  shadowDir[1] = ly;
  shadowDir[2] = lz;
  for (const object of objects) {
    shadowHit.t = 1; // the direction is unnormalized: t = 1 is the light itself
    if (intersectObject(object, shadowStart, shadowDir, shadowHit)) return true;
  }
  return false;
}
