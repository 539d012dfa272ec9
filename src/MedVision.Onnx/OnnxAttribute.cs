using System.Globalization;

namespace MedVision.Onnx;

/// <summary>A named attribute of an ONNX node (an int, float, string or a list of ints or floats).</summary>
public sealed class OnnxAttribute
{
    private OnnxAttribute(string name, OnnxAttributeKind kind, long integer = 0, float real = 0, string? text = null, long[]? integers = null, float[]? reals = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
        Kind = kind;
        IntValue = integer;
        FloatValue = real;
        StringValue = text;
        IntValues = integers ?? Array.Empty<long>();
        FloatValues = reals ?? Array.Empty<float>();
    }

    /// <summary>The attribute's name, as the operator's schema spells it (e.g. <c>kernel_shape</c>).</summary>
    public string Name { get; }

    /// <summary>Which value the attribute holds.</summary>
    public OnnxAttributeKind Kind { get; }

    /// <summary>The value of an <see cref="OnnxAttributeKind.Int"/> attribute.</summary>
    public long IntValue { get; }

    /// <summary>The value of a <see cref="OnnxAttributeKind.Float"/> attribute.</summary>
    public float FloatValue { get; }

    /// <summary>The value of a <see cref="OnnxAttributeKind.String"/> attribute.</summary>
    public string? StringValue { get; }

    /// <summary>The values of an <see cref="OnnxAttributeKind.Ints"/> attribute.</summary>
    public IReadOnlyList<long> IntValues { get; }

    /// <summary>The values of an <see cref="OnnxAttributeKind.Floats"/> attribute.</summary>
    public IReadOnlyList<float> FloatValues { get; }

    /// <summary>An integer attribute.</summary>
    public static OnnxAttribute Int(string name, long value) => new(name, OnnxAttributeKind.Int, integer: value);

    /// <summary>A float attribute.</summary>
    public static OnnxAttribute Float(string name, double value) => new(name, OnnxAttributeKind.Float, real: (float)value);

    /// <summary>A string attribute.</summary>
    public static OnnxAttribute String(string name, string value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(value);
        return new(name, OnnxAttributeKind.String, text: value);
    }

    /// <summary>A list-of-integers attribute.</summary>
    public static OnnxAttribute Ints(string name, IEnumerable<long> values)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(values);
        return new(name, OnnxAttributeKind.Ints, integers: values.ToArray());
    }

    /// <summary>A list-of-floats attribute.</summary>
    public static OnnxAttribute Floats(string name, IEnumerable<double> values)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(values);
        return new(name, OnnxAttributeKind.Floats, reals: values.Select(v => (float)v).ToArray());
    }

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        OnnxAttributeKind.Int => $"{Name}={IntValue.ToString(CultureInfo.InvariantCulture)}",
        OnnxAttributeKind.Float => $"{Name}={FloatValue.ToString("R", CultureInfo.InvariantCulture)}",
        OnnxAttributeKind.String => $"{Name}='{StringValue}'",
        OnnxAttributeKind.Ints => $"{Name}=[{string.Join(", ", IntValues.Select(v => v.ToString(CultureInfo.InvariantCulture)))}]",
        _ => $"{Name}=[{string.Join(", ", FloatValues.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}]",
    };
}

/// <summary>The kinds of value an <see cref="OnnxAttribute"/> holds (ONNX's AttributeProto.AttributeType).</summary>
public enum OnnxAttributeKind
{
    /// <summary>One 32-bit float.</summary>
    Float = 1,
    /// <summary>One 64-bit integer.</summary>
    Int = 2,
    /// <summary>A UTF-8 string.</summary>
    String = 3,
    /// <summary>A list of 32-bit floats.</summary>
    Floats = 6,
    /// <summary>A list of 64-bit integers.</summary>
    Ints = 7,
}
