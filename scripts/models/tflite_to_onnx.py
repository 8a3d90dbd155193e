#!/usr/bin/env python3
"""Convert MediaPipe's face .tflite models to ONNX that tract-onnx runs.

Why our own: tract cannot load these .tflite files (fp16 DEQUANTIZE, PRELU, MediaPipe's
custom transposed convolution, the full-range detector's sparse weights behind DENSIFY) and
tflite2onnx crashes on two of them. The graphs use a small
set of ops, mapped here one by one.

How: 4-D activations are carried in NCHW inside the ONNX graph (tflite is NHWC). The input is
transposed once on entry; a tensor goes back to NHWC only where tflite semantics need it
(RESHAPE, graph outputs). fp16 weights behind DEQUANTIZE are folded to fp32 constants. TF's
SAME padding becomes explicit pads (extra pixel at the end, as TF does).

Usage: tflite_to_onnx.py IN.tflite OUT.onnx
"""
import sys

import numpy as np
import onnx
import tflite
from onnx import TensorProto, helper, numpy_helper

OPS = {v: k for k, v in tflite.BuiltinOperator.__dict__.items() if not k.startswith("_")}
NHWC_TO_NCHW = [0, 3, 1, 2]
NCHW_TO_NHWC = [0, 2, 3, 1]
TFL_TYPES = {tflite.TensorType.FLOAT32: np.float32, tflite.TensorType.FLOAT16: np.float16,
             tflite.TensorType.INT32: np.int32, tflite.TensorType.INT64: np.int64}


class Converter:
    def __init__(self, data):
        self.data = data
        self.dense = None
        self.model = tflite.Model.GetRootAsModel(data, 0)
        self.g = self.model.Subgraphs(0)
        self.nodes, self.inits = [], []
        self.consts = {}      # tensor index -> numpy array (tflite layout)
        self.layout = {}      # tensor index -> "nchw" | "tfl"
        self.counter = 0

    # --- tensors -------------------------------------------------------------------------
    def tname(self, i):
        return f"t{i}_" + self.g.Tensors(i).Name().decode().replace("/", "_").replace(";", "_")[:60]

    def shape(self, i):
        return [int(d) for d in self.g.Tensors(i).ShapeAsNumpy()] if self.g.Tensors(i).ShapeLength() else []

    def buffer(self, i):
        t = self.g.Tensors(i)
        buf = self.model.Buffers(t.Buffer())
        if buf is None or buf.DataLength() == 0:
            return None
        return np.frombuffer(buf.DataAsNumpy().tobytes(), dtype=TFL_TYPES[t.Type()]).reshape(self.shape(i))

    def const(self, i):
        if i not in self.consts:
            arr = self.buffer(i)
            if arr is None:
                raise ValueError(f"tensor {i} is not constant")
            self.consts[i] = arr
        return self.consts[i]

    def fresh(self, hint):
        self.counter += 1
        return f"{hint}_{self.counter}"

    def init(self, arr, hint):
        name = self.fresh(hint)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def node(self, op, inputs, outputs=None, hint=None, **attrs):
        outputs = outputs or [self.fresh(hint or op.lower())]
        self.nodes.append(helper.make_node(op, inputs, outputs, **attrs))
        return outputs[0]

    def value(self, i):
        """The ONNX name of tensor i as an activation (NCHW if 4-D)."""
        if i in self.consts:
            return self.init(self.consts[i].astype(np.float32), "c")
        return self.tname(i)

    def as_tfl(self, i):
        """Tensor i in tflite (NHWC) layout."""
        if self.layout.get(i) == "nchw":
            return self.node("Transpose", [self.tname(i)], perm=NCHW_TO_NHWC, hint="to_nhwc")
        return self.value(i)

    def fused(self, name, act, out):
        if act == tflite.ActivationFunctionType.NONE:
            self.node("Identity", [name], [out])
        elif act == tflite.ActivationFunctionType.RELU:
            self.node("Relu", [name], [out])
        elif act == tflite.ActivationFunctionType.RELU6:
            self.node("Clip", [name, self.init(np.float32(0), "lo"), self.init(np.float32(6), "hi")], [out])
        else:
            raise NotImplementedError(f"fused activation {act}")

    # --- geometry -------------------------------------------------------------------------
    @staticmethod
    def same_pads(size, k, stride, dilation=1):
        out = -(-size // stride)
        total = max((out - 1) * stride + (k - 1) * dilation + 1 - size, 0)
        return total // 2, total - total // 2

    def pads(self, padding, in_shape, kh, kw, sh, sw, dh=1, dw=1):
        if padding == tflite.Padding.VALID:
            return [0, 0, 0, 0]
        t, b = self.same_pads(in_shape[1], kh, sh, dh)
        l, r = self.same_pads(in_shape[2], kw, sw, dw)
        return [t, l, b, r]

    # --- ops ------------------------------------------------------------------------------
    def convert(self):
        g = self.g
        inputs, outputs = [], []
        for j in range(g.InputsLength()):
            i = g.Inputs(j)
            inputs.append(helper.make_tensor_value_info("input", TensorProto.FLOAT, self.shape(i)))
            self.node("Transpose", ["input"], [self.tname(i)], perm=NHWC_TO_NCHW)
            self.layout[i] = "nchw"
        for k in range(g.OperatorsLength()):
            op = g.Operators(k)
            code = self.model.OperatorCodes(op.OpcodeIndex())
            builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
            name = OPS.get(builtin, str(builtin))
            if builtin == tflite.BuiltinOperator.CUSTOM:
                name = "CUSTOM:" + code.CustomCode().decode()
            ins = [op.Inputs(j) for j in range(op.InputsLength())]
            outs = [op.Outputs(j) for j in range(op.OutputsLength())]
            getattr(self, "op_" + name.replace(":", "_").replace("2D", "2d").lower())(op, ins, outs)
        for j in range(g.OutputsLength()):
            i = g.Outputs(j)
            out_name = g.Tensors(i).Name().decode()
            self.node("Identity", [self.as_tfl(i)], [out_name])
            outputs.append(helper.make_tensor_value_info(out_name, TensorProto.FLOAT, self.shape(i)))
        graph = helper.make_graph(self.nodes, "converted", inputs, outputs, self.inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="gradbooth")
        m.ir_version = 8
        onnx.checker.check_model(m)
        return m

    def op_densify(self, op, ins, outs):
        # A sparse constant made dense. Its dense values are read from Google's own runtime
        # (LiteRT, which implements tflite's sparsity formats) rather than decoded here.
        if self.dense is None:
            import warnings
            from ai_edge_litert.interpreter import Interpreter, OpResolverType
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # keeping every tensor is what we want here
                # Without the XNNPACK delegate, which would take the weights over before
                # DENSIFY ever writes them.
                self.dense = Interpreter(
                    model_content=self.data,
                    experimental_preserve_all_tensors=True,
                    experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
                )
            self.dense.allocate_tensors()
            inp = self.dense.get_input_details()[0]
            self.dense.set_tensor(inp["index"], np.zeros(inp["shape"], dtype=inp["dtype"]))
            self.dense.invoke()
        self.consts[outs[0]] = np.array(self.dense.get_tensor(outs[0]))

    def op_dequantize(self, op, ins, outs):
        self.consts[outs[0]] = self.const(ins[0]).astype(np.float32)

    def mark(self, i):
        self.layout[i] = "nchw" if len(self.shape(i)) == 4 else "tfl"

    def op_conv_2d(self, op, ins, outs):
        o = tflite.Conv2DOptions()
        o.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
        w = self.const(ins[1])                      # [O, H, W, I]
        pads = self.pads(o.Padding(), self.shape(ins[0]), w.shape[1], w.shape[2], o.StrideH(), o.StrideW(),
                         o.DilationHFactor(), o.DilationWFactor())
        args = [self.value(ins[0]), self.init(w.transpose(0, 3, 1, 2).astype(np.float32), "w")]
        if len(ins) > 2 and ins[2] >= 0:
            args.append(self.init(self.const(ins[2]).astype(np.float32), "b"))
        y = self.node("Conv", args, strides=[o.StrideH(), o.StrideW()], pads=pads,
                      dilations=[o.DilationHFactor(), o.DilationWFactor()], kernel_shape=list(w.shape[1:3]))
        self.fused(y, o.FusedActivationFunction(), self.tname(outs[0]))
        self.mark(outs[0])

    def op_depthwise_conv_2d(self, op, ins, outs):
        o = tflite.DepthwiseConv2DOptions()
        o.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
        w = self.const(ins[1])                      # [1, H, W, C*M]
        c = self.shape(ins[0])[3]
        pads = self.pads(o.Padding(), self.shape(ins[0]), w.shape[1], w.shape[2], o.StrideH(), o.StrideW(),
                         o.DilationHFactor(), o.DilationWFactor())
        args = [self.value(ins[0]), self.init(w.transpose(3, 0, 1, 2).astype(np.float32), "dw")]
        if len(ins) > 2 and ins[2] >= 0:
            args.append(self.init(self.const(ins[2]).astype(np.float32), "b"))
        y = self.node("Conv", args, strides=[o.StrideH(), o.StrideW()], pads=pads, group=c,
                      dilations=[o.DilationHFactor(), o.DilationWFactor()], kernel_shape=list(w.shape[1:3]))
        self.fused(y, o.FusedActivationFunction(), self.tname(outs[0]))
        self.mark(outs[0])

    def binary(self, onnx_op, op, ins, outs, options_cls):
        act = tflite.ActivationFunctionType.NONE
        if op.BuiltinOptions() is not None:
            o = options_cls()
            o.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
            act = o.FusedActivationFunction()
        four = len(self.shape(outs[0])) == 4
        args = []
        for i in ins:
            if i in self.consts or self.buffer(i) is not None:
                arr = self.const(i).astype(np.float32)
                if four and arr.ndim == 4:
                    arr = arr.transpose(NHWC_TO_NCHW)
                elif four and arr.ndim in (1, 3) and arr.size > 1:
                    arr = arr.reshape(-1, 1, 1)       # per-channel constant
                args.append(self.init(arr, "k"))
            else:
                args.append(self.value(i) if four else self.as_tfl(i))
        y = self.node(onnx_op, args)
        self.fused(y, act, self.tname(outs[0]))
        self.mark(outs[0])

    def op_add(self, op, ins, outs):
        self.binary("Add", op, ins, outs, tflite.AddOptions)

    def op_mul(self, op, ins, outs):
        self.binary("Mul", op, ins, outs, tflite.MulOptions)

    def unary(self, onnx_op, ins, outs, **attrs):
        self.node(onnx_op, [self.value(ins[0])], [self.tname(outs[0])], **attrs)
        self.layout[outs[0]] = self.layout.get(ins[0], "tfl")

    def op_relu(self, op, ins, outs):
        self.unary("Relu", ins, outs)

    def op_logistic(self, op, ins, outs):
        self.unary("Sigmoid", ins, outs)

    def op_hard_swish(self, op, ins, outs):
        x = self.value(ins[0])
        hs = self.node("HardSigmoid", [x], alpha=1.0 / 6.0, beta=0.5)
        self.node("Mul", [x, hs], [self.tname(outs[0])])
        self.layout[outs[0]] = self.layout.get(ins[0], "tfl")

    def op_prelu(self, op, ins, outs):
        alpha = self.const(ins[1]).astype(np.float32)   # [1,1,C] or [H,W,C]
        if alpha.ndim == 3:
            alpha = alpha.transpose(2, 0, 1) if alpha.shape[0] * alpha.shape[1] > 1 else alpha.reshape(-1, 1, 1)
        self.node("PRelu", [self.value(ins[0]), self.init(alpha, "alpha")], [self.tname(outs[0])])
        self.mark(outs[0])

    def op_depth_to_space(self, op, ins, outs):
        o = tflite.DepthToSpaceOptions()
        o.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
        # TF's channel order (block row, block column, channel) is ONNX's DCR mode.
        self.node("DepthToSpace", [self.value(ins[0])], [self.tname(outs[0])], blocksize=o.BlockSize(), mode="DCR")
        self.mark(outs[0])

    def op_pad(self, op, ins, outs):
        p = self.const(ins[1]).astype(np.int64)        # [[n0,n1],[h0,h1],[w0,w1],[c0,c1]]
        if len(self.shape(ins[0])) == 4:
            p = p[NHWC_TO_NCHW]
        pads = np.concatenate([p[:, 0], p[:, 1]])
        self.node("Pad", [self.value(ins[0]), self.init(pads, "pads")], [self.tname(outs[0])])
        self.mark(outs[0])

    def pool(self, onnx_op, op, ins, outs):
        o = tflite.Pool2DOptions()
        o.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
        pads = self.pads(o.Padding(), self.shape(ins[0]), o.FilterHeight(), o.FilterWidth(), o.StrideH(), o.StrideW())
        y = self.node(onnx_op, [self.value(ins[0])], kernel_shape=[o.FilterHeight(), o.FilterWidth()],
                      strides=[o.StrideH(), o.StrideW()], pads=pads)
        self.fused(y, o.FusedActivationFunction(), self.tname(outs[0]))
        self.mark(outs[0])

    def op_max_pool_2d(self, op, ins, outs):
        self.pool("MaxPool", op, ins, outs)

    def op_average_pool_2d(self, op, ins, outs):
        self.pool("AveragePool", op, ins, outs)

    def op_reshape(self, op, ins, outs):
        shape = np.array(self.shape(outs[0]), dtype=np.int64)
        self.node("Reshape", [self.as_tfl(ins[0]), self.init(shape, "shape")], [self.tname(outs[0])])
        self.mark(outs[0])
        if self.layout[outs[0]] == "nchw":
            # A 4-D reshape result: bring it into the NCHW world.
            nhwc = self.tname(outs[0])
            self.nodes[-1].output[0] = nhwc + "_nhwc"
            self.node("Transpose", [nhwc + "_nhwc"], [nhwc], perm=NHWC_TO_NCHW)

    def op_concatenation(self, op, ins, outs):
        o = tflite.ConcatenationOptions()
        o.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
        rank = len(self.shape(outs[0]))
        axis = o.Axis() % rank
        if rank == 4:
            axis = NHWC_TO_NCHW.index(axis)
            args = [self.value(i) for i in ins]
        else:
            args = [self.as_tfl(i) for i in ins]
        y = self.node("Concat", args, axis=axis)
        self.fused(y, o.FusedActivationFunction(), self.tname(outs[0]))
        self.mark(outs[0])

    def op_resize_bilinear(self, op, ins, outs):
        o = tflite.ResizeBilinearOptions()
        o.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
        mode = "align_corners" if o.AlignCorners() else ("half_pixel" if o.HalfPixelCenters() else "asymmetric")
        n, h, w, c = self.shape(outs[0])
        sizes = self.init(np.array([n, c, h, w], dtype=np.int64), "sizes")
        self.node("Resize", [self.value(ins[0]), "", "", sizes], [self.tname(outs[0])], mode="linear",
                  coordinate_transformation_mode=mode)
        self.mark(outs[0])

    def op_custom_convolution2dtransposebias(self, op, ins, outs):
        # MediaPipe's custom op: options are a TfLiteTransposeConvParams {padding, stride_w, stride_h}.
        raw = op.CustomOptionsAsNumpy().tobytes()
        padding, stride_w, stride_h = np.frombuffer(raw[:12], dtype=np.int32)
        w = self.const(ins[1])                      # [O, H, W, I]
        b = self.const(ins[2]).astype(np.float32)
        n, ih, iw, _ = self.shape(ins[0])
        _, oh, ow, _ = self.shape(outs[0])
        kh, kw = w.shape[1], w.shape[2]
        # Pads that crop the full transposed output down to tflite's output size (extra at the end).
        th, tw = (ih - 1) * stride_h + kh - oh, (iw - 1) * stride_w + kw - ow
        pads = [th // 2, tw // 2, th - th // 2, tw - tw // 2]
        self.node("ConvTranspose", [self.value(ins[0]), self.init(w.transpose(3, 0, 1, 2).astype(np.float32), "wt"),
                                    self.init(b, "b")], [self.tname(outs[0])],
                  strides=[int(stride_h), int(stride_w)], pads=pads, kernel_shape=[kh, kw])
        self.mark(outs[0])


def main():
    src, dst = sys.argv[1], sys.argv[2]
    model = Converter(open(src, "rb").read()).convert()
    onnx.save(model, dst)


if __name__ == "__main__":
    main()
