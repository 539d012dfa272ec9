using MedVision.Nets.Data.Nifti;

namespace MedVision.Nets.Tests.Data;

/// <summary>Volumes made by sampling a function of world coordinates (mm) at the voxel centres of a grid.</summary>
internal static class WorldVolume
{
    /// <summary>A float32 volume on the grid (<paramref name="shape"/>, <paramref name="affine"/>) holding f(x, y, z) at each voxel centre; its spacing is the affine's voxel sizes.</summary>
    public static NiftiImage Sample(int[] shape, NiftiAffine affine, Func<double, double, double, float> f)
    {
        var voxels = new float[shape[0] * shape[1] * shape[2]];
        for (int k = 0, at = 0; k < shape[2]; k++)
            for (int j = 0; j < shape[1]; j++)
                for (int i = 0; i < shape[0]; i++, at++)
                {
                    var (x, y, z) = affine.Apply(i, j, k);
                    voxels[at] = f(x, y, z);
                }
        return new NiftiImage(voxels, shape, affine.VoxelSizes.Select(v => (float)v).ToArray(), NiftiDataType.Float32, affine);
    }

    /// <summary>As <see cref="Sample(int[], NiftiAffine, Func{double, double, double, float})"/>, the affine given as its 3×4 or 4×4 matrix.</summary>
    public static NiftiImage Sample(int[] shape, double[,] affine, Func<double, double, double, float> f) => Sample(shape, new NiftiAffine(affine), f);
}
