"""TF Serving's gRPC `PredictionService.Predict` for the locally loaded versions.

`seg2vid_tf.serve --grpc_port=8500` answers gRPC clients (such as
`seg2vid_tf.client --grpc=...`) the way `tensorflow_model_server` does for the
same export: `PredictRequest` in, `PredictResponse` out, `NOT_FOUND` for an
unknown model, version or signature and `INVALID_ARGUMENT` with the graph's
message for a bad request.
"""

from concurrent import futures

import grpc
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from seg2vid_tf.serving import rest


class PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
    """`Predict` over a `seg2vid_tf.serve.ModelRegistry`."""

    def __init__(self, registry):
        self.registry = registry

    def Predict(self, request, context):  # pylint: disable=invalid-name
        spec = request.model_spec
        version = spec.version.value if spec.HasField("version") else None
        signature_name = spec.signature_name or rest.DEFAULT_SIGNATURE
        try:
            predictor = self.registry.get(spec.name, version)
            function = predictor.signatures.get(signature_name)
            if function is None:
                raise rest.RequestError(f"Serving signature name: \"{signature_name}\" not found "
                                        "in signature def", status=404)
            _, specs = function.structured_input_signature
            missing = sorted(set(specs) - set(request.inputs))
            extra = sorted(set(request.inputs) - set(specs))
            if missing or extra:
                raise rest.RequestError(f"Inputs {sorted(request.inputs)} do not match the "
                                        f"signature's {sorted(specs)}.")
            inputs = {}
            for name, proto in request.inputs.items():
                value = tf.make_ndarray(proto)
                if tf.as_dtype(proto.dtype) != specs[name].dtype:
                    raise rest.RequestError(f"Input '{name}' must be {specs[name].dtype.name}, "
                                            f"got {tf.as_dtype(proto.dtype).name}.")
                inputs[name] = tf.constant(value, dtype=specs[name].dtype)
            outputs = function(**inputs)
        except rest.RequestError as error:
            code = grpc.StatusCode.NOT_FOUND if error.status == 404 else \
                grpc.StatusCode.INVALID_ARGUMENT
            context.abort(code, str(error))
        except tf.errors.InvalidArgumentError as error:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, rest.clean_error_message(error.message))
        response = predict_pb2.PredictResponse()
        response.model_spec.name = spec.name
        response.model_spec.version.value = predictor.version
        response.model_spec.signature_name = signature_name
        for name, value in outputs.items():
            response.outputs[name].CopyFrom(tf.make_tensor_proto(value.numpy()))
        return response


def make_grpc_server(registry, host="127.0.0.1", port=8500, max_workers=8,
                     max_message_mb=64.0):
    """A started gRPC server; returns `(server, bound_port)` (`port=0` picks a free one)."""
    limit = int(max_message_mb * 1024 * 1024)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=max_workers),
                         options=[("grpc.max_receive_message_length", limit),
                                  ("grpc.max_send_message_length", limit)])
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
        PredictionService(registry), server)
    bound = server.add_insecure_port(f"{host}:{port}")
    server.start()
    return server, bound
