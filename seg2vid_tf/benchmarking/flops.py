"""FLOPs of a TensorFlow graph: its convolutions (and their gradients) and matrix products.

Counted from the static shapes of the ops the outputs depend on (elementwise ops,
a few percent here, are left out); see `graph_gflop` for why TensorFlow's
profiler is not used.
"""

import math


def _shape(tensor):
    shape = tensor.shape
    return shape.as_list() if shape.rank is not None and shape.is_fully_defined() else None


def contraction_flops(op):
    """FLOPs (2 per multiply-add) of one convolution or matrix-product op, from static shapes.

    The forward convolutions (2-D, 3-D, depthwise), their input and filter
    gradients and (batched) matrix products; 0 for every other op and for
    shapes that are not static. Each convolution gradient costs what its
    forward convolution costs: 2 * output elements * kernel volume * input
    channels.
    """
    kind = op.type
    if kind in ("Conv2D", "Conv3D", "DepthwiseConv2dNative"):
        output, kernel = _shape(op.outputs[0]), _shape(op.inputs[1])
        if output is None or kernel is None:
            return 0
        per_output = math.prod(kernel[:-1])  # kernel volume * input channels
        if kind == "DepthwiseConv2dNative":
            per_output = math.prod(kernel[:-2])
        return 2 * math.prod(output) * per_output
    if kind in ("Conv2DBackpropInput", "Conv3DBackpropInputV2"):
        gradient, kernel = _shape(op.inputs[2]), _shape(op.inputs[1])
    elif kind in ("Conv2DBackpropFilter", "Conv3DBackpropFilterV2"):
        gradient, kernel = _shape(op.inputs[2]), _shape(op.outputs[0])
    elif kind in ("MatMul", "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3"):
        a, out = _shape(op.inputs[0]), _shape(op.outputs[0])
        if a is None or out is None:
            return 0
        transpose_a = op.get_attr("transpose_a" if kind == "MatMul" else "adj_x")
        inner = a[-2] if transpose_a else a[-1]
        return 2 * math.prod(out) * inner
    else:
        return 0
    if gradient is None or kernel is None:
        return 0
    return 2 * math.prod(gradient) * math.prod(kernel[:-1])


def graph_gflop(concrete_function):
    """GFLOP of one call of a concrete function: its convolutions and matrix products.

    Counted from the graph's static shapes by `contraction_flops`, over the ops that
    the outputs depend on (elementwise ops, a few percent here, are left out).
    TensorFlow's profiler
    (`ProfileOptionBuilder.float_operation`) is not used: on the training graph it
    reported 674 GFLOP for `Conv2DBackpropFilter` alone and nothing for the forward
    convolutions (quick size, where this count gives 320 GFLOP in all), and it has
    no count for the 3-D convolution gradients.
    """
    graph = concrete_function.graph
    # Only the ops the outputs depend on: a gradient tape also builds gradients nobody
    # asked for (the frozen VGG19's filters), which Grappler prunes before running.
    live, stack = set(), [tensor.op for tensor in graph.outputs]
    while stack:
        op = stack.pop()
        if op.name in live:
            continue
        live.add(op.name)
        stack.extend(tensor.op for tensor in op.inputs)
        stack.extend(op.control_inputs)
    return sum(contraction_flops(op) for op in graph.get_operations() if op.name in live) / 1e9
