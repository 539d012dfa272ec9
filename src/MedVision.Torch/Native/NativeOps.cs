namespace MedVision.Torch.Native;

/// <summary>Unary op codes of mvt_unary (native/src/ops.cpp).</summary>
internal enum UnaryOp
{
    Neg = 0, Abs = 1, Exp = 2, Log = 3, Sqrt = 4, Sigmoid = 5, Tanh = 6, Relu = 7, Sign = 8, Floor = 9, Ceil = 10,
    Round = 11, Sin = 12, Cos = 13, Rsqrt = 14, Reciprocal = 15, LogicalNot = 16, IsNan = 17, IsInf = 18,
    Square = 19, Log1p = 20, Expm1 = 21, Erf = 22, IsFinite = 23, Trunc = 24, T = 25,
}

/// <summary>Tensor-scalar op codes of mvt_unary_scalar.</summary>
internal enum ScalarOp
{
    Add = 0, Sub = 1, RSub = 2, Mul = 3, Div = 4, RDiv = 5, Pow = 6, RPow = 7, Eq = 8, Ne = 9, Lt = 10, Le = 11,
    Gt = 12, Ge = 13, Fmod = 14, Remainder = 15, ClampMin = 16, ClampMax = 17,
}

/// <summary>Binary op codes of mvt_binary.</summary>
internal enum BinaryOp
{
    Add = 0, Sub = 1, Mul = 2, Div = 3, Pow = 4, Maximum = 5, Minimum = 6, Eq = 7, Ne = 8, Lt = 9, Le = 10, Gt = 11,
    Ge = 12, MatMul = 13, Bmm = 14, Mm = 15, LogicalAnd = 16, LogicalOr = 17, LogicalXor = 18, Atan2 = 19,
    Fmod = 20, Remainder = 21, FloorDivide = 22, Dot = 23,
}

/// <summary>Reduction codes of mvt_reduce.</summary>
internal enum ReduceOp { Sum = 0, Mean = 1, Amax = 2, Amin = 3, Prod = 4, LogSumExp = 5, Norm = 6, Any = 7, All = 8 }

/// <summary>In-place tensor op codes of mvt_inplace_binary.</summary>
internal enum InPlaceOp { Add = 0, Sub = 1, Mul = 2, Div = 3, Copy = 4, Maximum = 5 }

/// <summary>In-place scalar op codes of mvt_inplace_scalar.</summary>
internal enum InPlaceScalarOp { Add = 0, Sub = 1, Mul = 2, Div = 3, Fill = 4, Zero = 5, ClampMin = 6, ClampMax = 7, Sqrt = 8, Pow = 9, Relu = 10 }

/// <summary>Activation codes of mvt_activation.</summary>
internal enum ActivationOp { LeakyRelu = 0, Elu = 1, Gelu = 2, Silu = 3, Softplus = 4, Hardtanh = 5, LogSigmoid = 6, Relu6 = 7 }
