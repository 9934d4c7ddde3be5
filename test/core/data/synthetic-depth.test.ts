import { describe, expect, it } from 'vitest';
import { cameraRay, renderScene, syntheticDepth, type DepthScene, type SceneObject } from '../../../core/data/synthetic-depth.ts';

const range = (n: number, start = 0): number[] => Array.from({ length: n }, (_, i) => start + i);
const SIZE = 64;

function emptyRoom(objects: SceneObject[] = [], camera: Partial<DepthScene['camera']> = {}): DepthScene {
  const plain = { colour: [0.6, 0.5, 0.4] as [number, number, number], colour2: [0.6, 0.5, 0.4] as [number, number, number], period: 0 };
  return {
    room: { width: 4, height: 2.8, depth: 6, zMin: -0.5 },
    floor: { ...plain, colour2: [0.2, 0.2, 0.2], period: 0.5 },
    walls: plain,
    ceiling: plain,
    objects,
    light: [0, 2.7, 3],
    ambient: 0.2,
    camera: { position: [0, 1.4, 0], yaw: 0, pitch: 0.15, fov: Math.PI / 3, ...camera },
    noise: 0,
  };
}

function render(scene: DepthScene): { images: Float32Array; depth: Float32Array } {
  const images = new Float32Array(SIZE * SIZE * 3);
  const depth = new Float32Array(SIZE * SIZE);
  renderScene(scene, SIZE, images, 0, depth, 0);
  return { images, depth };
}

describe('synthetic depth scenes', () => {
  it('floor depth grows toward the horizon and matches the ray–plane intersection', () => {
    const scene = emptyRoom();
    const { depth } = render(scene);
    const x = SIZE / 2;
    // Walk up the centre column from the bottom row while the ray still hits the floor.
    let previous = 0;
    let floorRows = 0;
    for (let y = SIZE - 1; y >= 0; y--) {
      const ray = cameraRay(scene.camera, SIZE, x, y);
      if (ray[1] >= 0) break;
      const tFloor = -scene.camera.position[1] / ray[1];
      const zAtFloor = scene.camera.position[2] + ray[2] * tFloor;
      if (zAtFloor >= scene.room.depth) break; // beyond the back wall
      const d = depth[y * SIZE + x] as number;
      expect(d).toBeCloseTo(tFloor, 4); // the ray is scaled so t is the z-depth
      expect(d).toBeGreaterThan(previous);
      previous = d;
      floorRows++;
    }
    expect(floorRows).toBeGreaterThan(10);
  });

  it('the back wall is a plane: its z-depth matches the analytic intersection, and it is farther than the floor below it', () => {
    const scene = emptyRoom();
    const { depth } = render(scene);
    const y = 12;
    const ray = cameraRay(scene.camera, SIZE, SIZE / 2, y);
    const tWall = (scene.room.depth - scene.camera.position[2]) / ray[2];
    expect(depth[y * SIZE + SIZE / 2]).toBeCloseTo(tWall, 4);
    expect(depth[(SIZE - 1) * SIZE + SIZE / 2] as number).toBeLessThan(tWall);
  });

  it('a sphere in front of the wall is closer than the wall behind it, at the analytic distance', () => {
    const sphere: SceneObject = { type: 'sphere', centre: [0, 1.2, 3], radius: 0.5, surface: { colour: [0.9, 0.1, 0.1], colour2: [0.9, 0.1, 0.1], period: 0 } };
    const withSphere = emptyRoom([sphere], { pitch: 0 });
    const without = emptyRoom([], { pitch: 0 });
    const a = render(withSphere);
    const b = render(without);
    // The pixel through which the camera sees the sphere's centre.
    const half = Math.tan(withSphere.camera.fov / 2);
    const v = (1.2 - 1.4) / 3 / half; // vertical image coordinate in [-1, 1]
    const y = Math.floor(((1 - v) / 2) * SIZE);
    const x = SIZE / 2;
    const onSphere = a.depth[y * SIZE + x] as number;
    const wall = b.depth[y * SIZE + x] as number;
    expect(wall).toBeCloseTo(6, 4);
    expect(onSphere).toBeLessThan(wall);
    const ray = cameraRay(withSphere.camera, SIZE, x, y);
    // Ray–sphere intersection by hand.
    const o = [0, 1.4, 0];
    const oc = [o[0]! - 0, o[1]! - 1.2, o[2]! - 3];
    const A = ray[0] ** 2 + ray[1] ** 2 + ray[2] ** 2;
    const B = oc[0]! * ray[0] + oc[1]! * ray[1] + oc[2]! * ray[2];
    const C = oc[0]! ** 2 + oc[1]! ** 2 + oc[2]! ** 2 - 0.25;
    expect(onSphere).toBeCloseTo((-B - Math.sqrt(B * B - A * C)) / A, 4);
    expect(onSphere).toBeGreaterThan(2.5 - 0.01);
    // The sphere is red: its pixel is redder than the plain wall there.
    expect(a.images[(y * SIZE + x) * 3] as number).toBeGreaterThan(a.images[(y * SIZE + x) * 3 + 1] as number);
    // Pixels far from the sphere are unchanged.
    expect(a.depth[0]).toBe(b.depth[0]);
  });

  it('a box on the floor occludes the wall; its front face is at the right depth', () => {
    const box: SceneObject = { type: 'box', centre: [0, 0.5, 3], half: [0.5, 0.5, 0.5], yaw: 0, surface: { colour: [0.1, 0.8, 0.1], colour2: [0.1, 0.8, 0.1], period: 0 } };
    const scene = emptyRoom([box], { pitch: 0, position: [0, 0.5, 0] });
    const { depth } = render(scene);
    // The centre ray goes straight along +z at height 0.5 and meets the front face z = 2.5.
    const centre = cameraRay(scene.camera, SIZE, SIZE / 2, SIZE / 2);
    expect(depth[(SIZE / 2) * SIZE + SIZE / 2]).toBeCloseTo(2.5, 3);
    expect(Math.abs(centre[1])).toBeLessThan(0.05);
  });

  it('dataset: deterministic, depth in plausible metres, images in [-1, 1], scenes differ', () => {
    const ds = syntheticDepth({ trainSize: 40, heldoutSize: 8, testSize: 8, seed: 4 });
    expect(ds.kind).toBe('depth');
    expect(ds.inputShape).toEqual([64, 64, 3]);
    expect(ds.numClasses).toBeUndefined();
    const b = ds.split('train').get(range(6));
    const again = syntheticDepth({ trainSize: 40, heldoutSize: 8, testSize: 8, seed: 4 }).split('train').get([5]);
    expect(Array.from(again.depth ?? [])).toEqual(Array.from((b.depth as Float32Array).subarray(5 * 4096)));
    expect(Array.from(again.images)).toEqual(Array.from(b.images.subarray(5 * 4096 * 3)));
    expect(b.labels).toBeUndefined();
    expect(b.depth?.length).toBe(6 * 64 * 64);
    const depth = Array.from(b.depth ?? []);
    expect(Math.min(...depth)).toBeGreaterThan(0.05);
    expect(Math.max(...depth)).toBeLessThan(12);
    expect(Math.max(...depth) - Math.min(...depth)).toBeGreaterThan(2); // near floor to far wall
    const pixels = Array.from(b.images);
    expect(Math.min(...pixels)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...pixels)).toBeLessThanOrEqual(1);
    expect(Array.from(b.depth?.subarray(0, 4096) ?? [])).not.toEqual(Array.from(b.depth?.subarray(4096, 8192) ?? []));
    const other = syntheticDepth({ trainSize: 40, heldoutSize: 8, testSize: 8, seed: 5 }).split('train').get([5]);
    expect(Array.from(other.depth ?? [])).not.toEqual(Array.from(again.depth ?? []));
  });

  it('renders at a usable speed (prints images per CPU-second)', () => {
    const split = syntheticDepth({ trainSize: 300, heldoutSize: 0, testSize: 0 }).split('train');
    split.get(range(20));
    const cpu = (): number => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1e6;
    };
    const start = cpu();
    for (let i = 20; i < 300; i += 40) split.get(range(40, i));
    const perSecond = 280 / (cpu() - start);
    console.log(`synthetic depth 64×64: ${perSecond.toFixed(0)} scenes per CPU-second (one thread)`);
    expect(perSecond).toBeGreaterThan(20);
  });
});
