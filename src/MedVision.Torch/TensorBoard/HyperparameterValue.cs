using MedVision.Protobuf;

namespace MedVision.Torch.TensorBoard;

/// <summary>The types of hyperparameter the HParams plugin knows (its <c>DataType</c> codes).</summary>
internal enum HyperparameterKind
{
    String = 1,
    Bool = 2,
    Float64 = 3,
}

/// <summary>One hyperparameter value, written as a <c>google.protobuf.Value</c> (number 2, string 3, bool 4).</summary>
internal sealed record HyperparameterValue(HyperparameterKind Kind, double Number, string? Text, bool Flag)
{
    public static HyperparameterValue Of(object value, string what, string parameter) => value switch
    {
        bool b => new(HyperparameterKind.Bool, 0, null, b),
        string s => new(HyperparameterKind.String, 0, s, false),
        Half h => new(HyperparameterKind.Float64, (double)h, null, false),
        double or float or decimal or sbyte or byte or short or ushort or int or uint or long or ulong
            => new(HyperparameterKind.Float64, Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture), null, false),
        Tensor { NumElements: 1 } t => new(HyperparameterKind.Float64, t.Item(), null, false),
        _ => throw new ArgumentException($"{what} is a {value.GetType().Name}: give a number, a string, a bool or a one-element tensor.", parameter),
    };

    public void Write(ProtoWriter v)
    {
        switch (Kind)
        {
            case HyperparameterKind.Float64: v.Double(2, Number); break;
            case HyperparameterKind.String: v.String(3, Text); break;
            default: v.Int64(4, Flag ? 1 : 0); break;
        }
    }
}
