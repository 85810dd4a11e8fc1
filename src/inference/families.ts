import type { PreprocessSpec, ResizeMethod } from '../types.js';

/**
 * Model families, each prepared the way its authors' reference code prepares
 * images. Sources (checked against the published code):
 *  - MiDaS `midas/model_loader.py` (`load_model`): net_w/net_h, resize_mode,
 *    keep_aspect_ratio overrides, NormalizeImage mean/std, and the shared
 *    `Resize(..., ensure_multiple_of=32, image_interpolation_method=cv2.INTER_CUBIC)`.
 *  - MiDaS `run.py`: the prediction is brought back with
 *    `interpolate(mode="bicubic", align_corners=False)` for every MiDaS/DPT model.
 *  - Depth-Anything(-V2) `depth_anything(_v2)/dpt.py` (`image2tensor`,
 *    `infer_image`): Resize(518, keep_aspect_ratio=True, ensure_multiple_of=14,
 *    resize_method='lower_bound', INTER_CUBIC), ImageNet NormalizeImage, and
 *    `interpolate(mode="bilinear", align_corners=True)` on the way back.
 */
export type FamilyName =
  | 'midas-v21-small'
  | 'midas-v21'
  | 'dpt'
  | 'beit-512'
  | 'beit-384'
  | 'swin2-384'
  | 'swin2-256'
  | 'levit-224'
  | 'depth-anything';

export const FAMILY_NAMES: readonly FamilyName[] = [
  'midas-v21-small',
  'midas-v21',
  'dpt',
  'beit-512',
  'beit-384',
  'swin2-384',
  'swin2-256',
  'levit-224',
  'depth-anything',
];

const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
const IMAGENET_STD = [0.229, 0.224, 0.225] as const;
const HALF = [0.5, 0.5, 0.5] as const;

/** Every MiDaS model_type shares Resize(ensure_multiple_of=32, INTER_CUBIC) and run.py's bicubic upsampling. */
function midas(size: number, keepAspect: boolean, resizeMethod: ResizeMethod, imagenet: boolean): PreprocessSpec {
  return {
    width: size,
    height: size,
    keepAspect,
    resizeMethod,
    multipleOf: 32,
    mean: imagenet ? IMAGENET_MEAN : HALF,
    std: imagenet ? IMAGENET_STD : HALF,
    channelOrder: 'RGB',
    inputInterpolation: 'bicubic',
    outputInterpolation: 'bicubic',
    outputAlignCorners: false,
  };
}

export const FAMILY_SPECS: Readonly<Record<FamilyName, PreprocessSpec>> = {
  // model_loader.py "midas_v21_small_256": 256x256, upper_bound, ImageNet.
  'midas-v21-small': midas(256, true, 'upper_bound', true),
  // model_loader.py "midas_v21_384": 384x384, upper_bound, ImageNet.
  'midas-v21': midas(384, true, 'upper_bound', true),
  // model_loader.py "dpt_large_384" / "dpt_hybrid_384": 384, minimal, mean=std=0.5.
  dpt: midas(384, true, 'minimal', false),
  // model_loader.py "dpt_beit_large_512": 512, minimal, 0.5/0.5 (aspect kept).
  'beit-512': midas(512, true, 'minimal', false),
  // model_loader.py "dpt_beit_large_384" / "dpt_beit_base_384".
  'beit-384': midas(384, true, 'minimal', false),
  // model_loader.py "dpt_swin2_large_384" / "dpt_swin2_base_384": keep_aspect_ratio = False.
  'swin2-384': midas(384, false, 'minimal', false),
  // model_loader.py "dpt_swin2_tiny_256": keep_aspect_ratio = False.
  'swin2-256': midas(256, false, 'minimal', false),
  // model_loader.py "dpt_levit_224": 224, keep_aspect_ratio = False.
  'levit-224': midas(224, false, 'minimal', false),
  // Depth-Anything V1 and V2 dpt.py image2tensor / infer_image.
  'depth-anything': {
    width: 518,
    height: 518,
    keepAspect: true,
    resizeMethod: 'lower_bound',
    multipleOf: 14,
    mean: IMAGENET_MEAN,
    std: IMAGENET_STD,
    channelOrder: 'RGB',
    inputInterpolation: 'bicubic',
    outputInterpolation: 'bilinear',
    outputAlignCorners: true,
  },
};

export function isFamilyName(name: string): name is FamilyName {
  return (FAMILY_NAMES as readonly string[]).includes(name);
}

export function specForFamily(family: FamilyName): PreprocessSpec {
  return FAMILY_SPECS[family];
}

/**
 * A spec for an ONNX export whose input is fixed at H x W: the graph accepts
 * nothing else, so the frame is squashed to exactly that size whatever the
 * family would do with a flexible network.
 */
export function fixedInputSpec(base: PreprocessSpec, width: number, height: number): PreprocessSpec {
  return { ...base, width, height, keepAspect: false, multipleOf: 1 };
}
