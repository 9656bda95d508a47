/* onnx_ops_image.c — ImageDecoder: an encoded image (BMP, JPEG, JPEG 2000, PNG, PNM, TIFF,
 * WebP) to [H, W, 3] (RGB, BGR) or [H, W, 1] (Grayscale) uint8.
 *
 * The output's shape depends on the image, and dlc's shapes are static, so the image is
 * decoded here, at compile time, and the node becomes a constant: encoded_stream must
 * be an initializer, a Constant's value or an input bound with --const-input.  The bytes
 * are untrusted: image_decode.c bounds the size before allocating (IMAGE_MAX_PIXELS, and
 * whatever --max-elements and --max-weight-bytes leave for the constant). */
#include <string.h>

#include "image_decode.h"
#include "onnx_fe.h"

#define IMAGE_MAX_PIXELS ((int64_t)1 << 26) /* 64 Mpixel: 8192 x 8192 */

int onnx_ImageDecoder(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  int x = n->in[0];
  const char *pf = onnx_attr_str(c, n, "pixel_format", "RGB");
  ImgFormat f;
  if (!strcmp(pf, "RGB")) f = IMG_RGB;
  else if (!strcmp(pf, "BGR")) f = IMG_BGR;
  else if (!strcmp(pf, "Grayscale")) f = IMG_GRAY;
  else return onnx_fail(c, n, "pixel_format '%.60s' is not supported (RGB, BGR or Grayscale)", pf);
  const Node *v = c->g->nodes[x];
  if (v->dtype != DT_U8 || v->shape.rank != 1)
    return onnx_fail(c, n, "encoded_stream must be a 1-D uint8 tensor, not %s of rank %d", dtype_name(v->dtype), v->shape.rank);
  if (!onnx_is_const(c, x))
    return onnx_fail(c, n, "encoded_stream must be a constant known at compile time (an initializer, a Constant or an "
                           "input bound with --const-input): the decoded image's shape depends on its bytes");
  int ch = f == IMG_GRAY ? 1 : 3;
  int64_t room = ir_limits.weight_bytes - c->g->weight_bytes, most = IMAGE_MAX_PIXELS;
  if (ir_limits.elements / ch < most) most = ir_limits.elements / ch;
  if (room / ch < most) most = room / ch;
  ImgPixels img;
  DlcErr e;
  if (img_decode(v->data, (size_t)shape_numel(&v->shape), most, &img, &e) || img_convert(&img, f, &e))
    return onnx_fail(c, n, "%s", e.msg);
  int64_t d[3] = {img.h, img.w, img.ch};
  n->out[0] = ir_const(c->g, NULL, DT_U8, shape_make(3, d), img.px);
  img_free(&img);
  return n->out[0] < 0 ? onnx_fail_ir(c, n) : 0;
}
